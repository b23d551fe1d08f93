// Row reuse: a network on a window of feature rows that moves by a fixed number of rows between
// calls (the streaming detector's hop), recomputing only the activation rows that changed
// (docs/streaming.md, "Reusing activations between hops"). RowReuseNetwork runs the float
// Interpreter's steps, RowReuseInt8Network the Int8Network's.
//
// Rows are the time axis (NHWC h). Between two calls the window moves up by `shift_rows` rows
// and new rows arrive at the bottom. An output row of a layer can be taken from the previous
// call when the layer's rows move by a whole number too (the shift divides by its time
// stride) and the row reads no padding and no changed input row in either window; every other
// row is computed again. A layer whose kept rows the next layer reads keeps its output in a
// ring of rows stored twice, so the window it hands on is contiguous (as the detector's feature
// ring), or, with shift_kept_rows, in one copy moved up by shift rows (a memmove) before each
// continued call: half the memory for one copy of the kept rows per call. A layer whose
// recomputed rows are all the next one reads (a depthwise layer before its 1 x 1 conv) needs
// only a plain buffer. Layers from the first that cannot reuse (global
// pooling, dense, or a stride the shift does not divide) run whole, as invoke() does.
//
// The kernels are the networks' own, run on row ranges (a shorter input and output with the
// padding of the real border). The float kernels compute each pixel with the same code
// whatever range it is in (ops_fast_kernels.inc), so the output is bit-identical to
// Interpreter::invoke on the same window on x86-64 and aarch64 (tested in
// tests/runtime/row_reuse_test.cpp; the fuzz target `tkws` checks it for every float model it
// parses); on 32-bit ARM the last bits of a recomputed row can differ (within 1e-6 on the
// probabilities, tested). The int8 kernels are integer arithmetic: their output is
// bit-identical to Int8Network::invoke everywhere.
//
// create() allocates (2 x H x W x C elements per keeping layer, H x W x C with
// shift_kept_rows; plain buffers, scratch); invoke() allocates nothing and never throws. The
// network's weights must outlive it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "tinykws/runtime/int8_network.h"
#include "tinykws/runtime/interpreter.h"
#include "tinykws/runtime/status.h"

namespace tkws {
namespace detail {

// What the two networks share: the plan and the buffers. Elem: float or int8_t; Args:
// KernelArgs or Int8Args (in, out, win); Fn: their kernel function type.
template <class Elem, class Args, class Fn>
class RowReuseCore {
 public:
  struct StepIn {
    OpType type;
    Fn fn;
    Args args;
  };
  // Plans `steps` (input shape: steps[0].args.in) for windows moving `shift_rows` rows per
  // call, and holds `extra` more elements for the caller at extra() (scratch, int8 I/O).
  // shift_kept: keeping layers store their rows once and move them (else rings stored twice).
  void plan(const std::vector<StepIn>& steps, int shift_rows, size_t extra, bool shift_kept);
  // call(fn, args, in, out) runs one kernel.
  template <class Call>
  void run(const Elem* input, Elem* output, bool continues, Call call) noexcept;

  bool reuses() const { return reusing_steps_ > 0; }
  int shift_rows() const { return shift_; }
  int reusing_steps() const { return reusing_steps_; }
  int ring_steps() const { return ring_steps_; }
  double continued_ops() const { return continued_ops_; }
  double full_ops() const { return full_ops_; }
  size_t state_bytes() const { return state_.capacity() * sizeof(Elem); }
  Elem* extra() { return extra_off_ == SIZE_MAX ? nullptr : state_.data() + base_ + extra_off_; }

 private:
  struct RStep {
    Fn fn = nullptr;
    Args args;
    bool windowed = false;  // Conv2D, DepthwiseConv2D, pools: rows through args.win
    bool partial = false;   // a continued call recomputes `ranges` only
    bool ring = false;      // partial, and keeps its output rows between calls
    int shift = 0;          // partial: output rows the window moves per call
    int start = 0;          // ring: window's first row in the ring [0, out.h)
    size_t out_off = 0;     // elements into state_
    std::vector<std::pair<int, int>> ranges;  // partial: rows [first, last) to compute
  };
  static Args row_args(const RStep& s, int r0, int r1, size_t* in_off);
  void mirror_rows(const RStep& s, int r0, int r1) noexcept;

  std::vector<RStep> steps_;
  std::vector<Elem> state_;  // rings, plain outputs, extra; 64-byte aligned from base_
  size_t base_ = 0, extra_off_ = SIZE_MAX;
  int shift_ = 0, reusing_steps_ = 0, ring_steps_ = 0;
  bool shift_kept_ = false;
  double continued_ops_ = 0.0, full_ops_ = 0.0;
};

// What both public classes report about their plan.
template <class Elem, class Args, class Fn>
class RowReusePlanned {
 public:
  bool ready() const { return ready_; }
  // Some layer keeps rows between calls (else invoke() runs the whole network each time).
  bool reuses() const { return core_.reuses(); }
  int shift_rows() const { return core_.shift_rows(); }
  // Steps that recompute only some rows on a continued call; of those, the ones that keep
  // their rows in a ring (the others' recomputed rows are all the next step reads).
  int reusing_steps() const { return core_.reusing_steps(); }
  int ring_steps() const { return core_.ring_steps(); }
  // Multiply-adds (or element operations for ops without weights) of a continued call and of
  // a whole-network call, as planned: their ratio is the work a continued call saves.
  double continued_ops() const { return core_.continued_ops(); }
  double full_ops() const { return core_.full_ops(); }
  size_t state_bytes() const { return core_.state_bytes(); }

 protected:
  RowReuseCore<Elem, Args, Fn> core_;
  bool ready_ = false;
};

}  // namespace detail

class RowReuseNetwork : public detail::RowReusePlanned<float, KernelArgs, KernelFn> {
 public:
  // Plans for windows that move `shift_rows` rows between calls. `net` must be prepared with
  // its default input. Ok with reuses() false when no layer can keep a row (then invoke()
  // still works, as the whole network). shift_kept_rows: InterpreterOptions'.
  Status create(const Interpreter& net, int shift_rows, bool shift_kept_rows = kSmallRam);

  // input: the whole window (input_size() floats); output: output_size() floats. continues:
  // this window is the previous call's moved up by shift_rows rows; false (the first call, or
  // after a gap) computes every row.
  void invoke(const float* input, float* output, bool continues) noexcept;

 private:
  bool scratch_ = false;
};

// The same for an int8 model: invoke() quantises the float window (input_quant), runs the
// int8 steps with reuse and dequantises the output, as Int8Network::invoke does.
class RowReuseInt8Network : public detail::RowReusePlanned<int8_t, Int8Args, Int8KernelFn> {
 public:
  Status create(const Int8Network& net, int shift_rows, bool shift_kept_rows = kSmallRam);
  void invoke(const float* features, float* probs, bool continues) noexcept;

 private:
  void (*quantize_)(const float*, size_t, float, int32_t, int8_t*) = nullptr;
  size_t in_size_ = 0, out_size_ = 0;
  float in_scale_ = 1.0f, out_scale_ = 1.0f;
  int32_t in_zp_ = 0, out_zp_ = 0;
  size_t q_out_off_ = 0;  // extra(): q_in [in_size_], then q_out from here
};

}  // namespace tkws
