// The interpreter: prepare() once (plans shapes and buffers, repacks weights, folds BatchNorm,
// fuses ReLU; may allocate), then invoke() any number of times on a caller-given arena
// (allocates nothing, never throws; docs/architecture.md, conventions). Sequential graph, NHWC
// float activations.
//
// Arena plan: two ping-pong buffers, A at offset 0 and B at the next 64-byte boundary, each
// as large as the largest activation written to it, then (fast kernels only) scratch S for the
// largest zero-padded conv/depthwise input. The first step reads the caller's input, the last
// writes straight into the caller's output.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tinykws/format/model.h"
#include "tinykws/runtime/network_base.h"
#include "tinykws/runtime/ops.h"
#include "tinykws/runtime/status.h"

namespace tkws {

enum class KernelSet : uint8_t {
  kFast = 0,       // repacked weights, BatchNorm folded, ReLU fused, SIMD kernels
  kReference = 1,  // one reference kernel per model op, weights as stored: the ground truth
};

// A build for a board short of RAM (mcu/CMakeLists.txt) defines TINYKWS_SMALL_RAM: where the
// runtime trades memory for speed it then takes the smaller form by default (the front end's
// one-frame FFT, frontend.cpp; shift_kept_rows below).
#ifdef TINYKWS_SMALL_RAM
inline constexpr bool kSmallRam = true;
#else
inline constexpr bool kSmallRam = false;
#endif

struct InterpreterOptions {
  KernelSet kernels = KernelSet::kFast;
  // Index into fast_kernel_sets() (0 = the best set this CPU runs); clamped to what exists.
  int fast_set = 0;
  // Fast kernels: give padded convs/depthwise convs arena scratch for a zero-padded copy of
  // their input (faster inner loops, more RAM: +24 KB for the 32-channel DS-CNN on 49x10).
  // Off: windows are clipped at the border instead.
  bool pad_scratch = true;
  // Streaming (StreamDetector, RowReuse*Network): rows kept from one hop to the next (the
  // activation rows a layer reuses, the detector's window of feature rows) live in a ring
  // stored twice, so every window is read in place (false), or are stored once and moved up
  // by one memmove per hop (true: half their memory, 23 kB less for the default model, for
  // one copy of them per hop). The same scores either way.
  bool shift_kept_rows = kSmallRam;
  // Network input [h][w][c]. h == 0 (default): [num_frames][num_features][1] from the model's
  // front end, and prepare() runs the full check_model(). Any other shape (tests of single
  // ops) checks only the ops and tensors.
  ActShape input{};
};

// One step of the plan: a model op, or a conv/dense with the BatchNorm and ReLU that follow
// it folded in.
struct StepEvent {
  int step;          // index in the plan, 0..num_steps()-1
  const char* name;  // e.g. "Conv2D+BatchNorm+Relu"
  int first_op;      // model ops [first_op, last_op] run by this step
  int last_op;
  bool done;  // false: about to run; true: finished and `output` holds its result
  const float* output;
  ActShape shape;  // output shape
};
// Called before and after every step when set (profiling, layer-by-layer comparisons). The
// hook runs inside invoke(): it must not throw.
using StepHook = void (*)(void* user, const StepEvent& e);

class Interpreter : public detail::NetworkBase<Interpreter, StepEvent> {
 public:
  // Movable, not copyable (NetworkBase).

  // Validates `m` (check_model, kInvalidModel with its message), plans and prepares weights.
  // Float models only: an int8 model (Model::is_int8()) gives kUnsupported (Int8Network runs
  // those).
  // The interpreter keeps its own copy of what it needs: `m` may be destroyed afterwards.
  Status prepare(const Model& m, const InterpreterOptions& opt = {});
  // prepared(), arena_bytes(), input/output shape and size, kernel_set_name() ("reference",
  // "avx2+fma", ...), num_steps(), step_name(i), set_step_hook(): NetworkBase.

  // input: input_size() floats (for the default input, normalised features [frames][features]);
  // output: output_size() floats. arena: at least arena_bytes() bytes, float-aligned (64-byte
  // alignment is best), not shared with a concurrent invoke(). Reentrant otherwise.
  Status invoke(const float* input, float* output, float* arena, size_t arena_bytes) const noexcept;

 private:
  friend NetworkBase;
  friend class RowReuseNetwork;  // runs the steps on row ranges (row_reuse.h)
  struct Step {
    OpType type = OpType::kConv2D;  // the first model op of the step
    KernelFn fn = nullptr;
    KernelArgs args;
    size_t w_off = SIZE_MAX, b_off = SIZE_MAX;  // into weights_ (resolved into args at the end)
    detail::StepBuffer src = detail::kStepInput, dst = detail::kStepOutput;
    int first_op = 0, last_op = 0;
    char name[48] = {};
  };

  std::vector<Step> steps_;
  std::vector<float> weights_;  // every prepared weight, blocks 64-byte aligned from wbase_
  size_t wbase_ = 0;
  size_t offset_b_ = 0, offset_s_ = 0;  // arena offsets of B and S
};

// Values of a tensor as float (f32, f16 as stored; i8/i32 dequantised: scale * (q - zero)).
// False with a message if the tensor's data does not match its shape and dtype.
bool tensor_as_float(const Tensor& t, std::vector<float>* out, Status* error);

}  // namespace tkws
