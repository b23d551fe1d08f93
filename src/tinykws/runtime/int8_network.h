// Int8Network: runs an int8 model (model.h, "int8 models"; made by compress/quantize.h) with
// integer-only kernels (ops_int8.h). prepare() once (checks, requantisation multipliers,
// weight packing; may allocate), then invoke() any number of times on a caller-given arena
// (allocates nothing, never throws; docs/architecture.md, conventions).
//
// invoke(): normalised features -> int8 (input_quant) -> one kernel per op -> the last op's
// int8 output dequantised to float (for a Softmax: probabilities in steps of 1/256).
//
// Arena plan (64-byte aligned offsets): Q, the quantised input [input_size()] int8; O, the
// int8 output [output_size()]; then ping-pong buffers A and B, each as large as the largest
// activation written to it. Op 0 reads Q, the last op writes O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tinykws/format/model.h"
#include "tinykws/runtime/network_base.h"
#include "tinykws/runtime/ops_int8.h"
#include "tinykws/runtime/status.h"

namespace tkws {

struct Int8NetworkOptions {
  // false: fast kernels for Conv2D / DepthwiseConv2D / Dense (bit-identical results);
  // true: reference kernels only, weights as stored (the ground truth).
  bool reference = false;
  // Index into int8_fast_kernel_sets() (0 = the best set this CPU runs); clamped to what exists.
  int fast_set = 0;
};

// Called after every op when set (layer-by-layer comparisons): `output` holds the op's int8
// result, real = scale * (q - zero_point). Runs inside invoke(): it must not throw.
struct Int8StepEvent {
  int op;            // model op index
  const char* name;  // e.g. "Conv2D+Relu"
  const int8_t* output;
  ActShape shape;
  float scale;
  int32_t zero_point;
};
using Int8StepHook = void (*)(void* user, const Int8StepEvent& e);

class Int8Network : public detail::NetworkBase<Int8Network, Int8StepEvent> {
 public:
  // Movable, not copyable (NetworkBase).

  // Validates `m` (check_model, kInvalidModel with its message; kInvalidModel as well for a
  // float model), computes every multiplier and packs the weights. Keeps its own copy of what
  // it needs: `m` may be destroyed afterwards.
  Status prepare(const Model& m, const Int8NetworkOptions& opt = {});
  // prepared(), arena_bytes(), input/output shape and size, kernel_set_name() ("reference",
  // "avx2", ...), num_steps(), step_name(i), set_step_hook(): NetworkBase.
  float input_scale() const { return in_scale_; }
  int32_t input_zero_point() const { return in_zp_; }
  float output_scale() const { return out_scale_; }
  int32_t output_zero_point() const { return out_zp_; }

  // features: input_size() floats (normalised features [frames][features]); probs:
  // output_size() floats. arena: at least arena_bytes() bytes, not shared with a concurrent
  // invoke(). Reentrant otherwise.
  Status invoke(const float* features, float* probs, void* arena, size_t arena_bytes) const;
  // The integer part alone: q_in (input_size() int8, quantised with input_quant) -> q_out
  // (output_size() int8, the last op's out_quant). Same arena.
  Status invoke_int8(const int8_t* q_in, int8_t* q_out, void* arena, size_t arena_bytes) const;

 private:
  friend NetworkBase;
  friend class RowReuseInt8Network;  // runs the steps on row ranges (row_reuse.h)
  struct Step {
    OpType type = OpType::kConv2D;  // the model op's
    Int8KernelFn fn = nullptr;
    Int8Args args;
    // Offsets into the pools (SIZE_MAX = none); resolved into args at the end of prepare().
    size_t w_off = SIZE_MAX, wp_off = SIZE_MAX, wp8_off = SIZE_MAX, bias_off = SIZE_MAX,
           mult_off = SIZE_MAX, shift_off = SIZE_MAX;
    detail::StepBuffer src = detail::kStepInput, dst = detail::kStepOutput;  // input: q_in or Q
    int op = 0;
    float out_scale = 0.0f;
    int32_t out_zp = 0;
    char name[40] = {};
  };
  Status check_invoke(const void* in, const void* out, const void* arena, size_t arena_bytes) const;
  Status run(const int8_t* q_in, int8_t* q_out, uint8_t* arena) const;

  std::vector<Step> steps_;
  std::vector<int8_t> w8_;    // reference weights as stored, int8 packed fast weights
  std::vector<int16_t> w16_;  // int16 packed fast weights (the pairs packing)
  std::vector<int32_t> i32_;  // biases, multipliers, shifts
  size_t off_o_ = 0, off_a_ = 0, off_b_ = 0;  // arena offsets; Q is at offset 0
  // int8_quantize or the kernel set's vector form of it (the same bytes).
  void (*quantize_)(const float*, size_t, float, int32_t, int8_t*) = int8_quantize;
  float in_scale_ = 1.0f, out_scale_ = 1.0f;
  int32_t in_zp_ = 0, out_zp_ = 0;
};

}  // namespace tkws
