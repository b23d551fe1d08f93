// RowReuseNetwork: the float network on a window of feature rows that moves by a fixed number
// of rows between calls (the streaming detector's hop), recomputing only the activation rows
// that changed (docs/streaming.md, "Reusing activations between hops").
//
// Rows are the time axis (NHWC h). Between two calls the window moves up by `shift_rows` rows
// and new rows arrive at the bottom. An output row of a layer can be taken from the previous
// call when the layer's rows move by a whole number too (the shift divides by its time
// stride) and the row reads no padding and no changed input row in either window; every other
// row is computed again. A layer whose kept rows the next layer reads keeps its output in a
// ring of rows stored twice, so the window it hands on is contiguous (as the detector's feature
// ring); a layer whose recomputed rows are all the next one reads (a depthwise layer before its
// 1 x 1 conv) needs only a plain buffer. Layers from the first that cannot reuse (global
// pooling, dense, or a stride the shift does not divide) run whole, as in Interpreter::invoke.
//
// The kernels are the Interpreter's own, run on row ranges (a shorter input and output with
// the padding of the real border), and compute each pixel with the same code whatever range
// it is in (ops_fast_kernels.inc), so the output is bit-identical to Interpreter::invoke on the
// same window on x86-64 and aarch64 (tested in tests/runtime/row_reuse_test.cpp; the fuzz
// target `tkws` checks it for every float model it parses). On 32-bit ARM the last bits of a
// recomputed row can differ (within 1e-6 on the probabilities, tested).
//
// create() allocates (a ring of 2 x H x W x C floats per keeping layer, plain buffers, scratch);
// invoke() allocates nothing and never throws. The Interpreter's weights must outlive it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tinykws/runtime/interpreter.h"
#include "tinykws/runtime/status.h"

namespace tkws {

class RowReuseNetwork {
 public:
  // Plans for windows that move `shift_rows` rows between calls. `net` must be prepared with
  // its default input. Ok with reuses() false when no layer can keep a row (then invoke()
  // still works, as the whole network).
  Status create(const Interpreter& net, int shift_rows);
  bool ready() const { return !steps_.empty(); }
  bool reuses() const { return reusing_steps_ > 0; }

  // input: the whole window (input_size() floats); output: output_size() floats. continues:
  // this window is the previous call's moved up by shift_rows rows; false (the first call, or
  // after a gap) computes every row.
  void invoke(const float* input, float* output, bool continues) noexcept;

  int shift_rows() const { return shift_; }
  // Steps that recompute only some rows on a continued call; of those, the ones that keep
  // their rows in a ring (the others' recomputed rows are all the next step reads).
  int reusing_steps() const { return reusing_steps_; }
  int ring_steps() const { return ring_steps_; }
  // Multiply-adds (or element operations for ops without weights) of a continued call and of
  // a whole-network call, as planned: their ratio is the work a continued call saves.
  double continued_ops() const { return continued_ops_; }
  double full_ops() const { return full_ops_; }
  size_t state_bytes() const { return state_.capacity() * sizeof(float); }

 private:
  struct RStep {
    KernelFn fn = nullptr;
    KernelArgs args;
    bool windowed = false;  // Conv2D, DepthwiseConv2D, pools: rows through args.win
    bool partial = false;   // a continued call recomputes `ranges` only
    bool ring = false;      // partial, and keeps its output rows between calls
    int shift = 0;          // partial: output rows the window moves per call
    int start = 0;          // ring: window's first row in the ring [0, out.h)
    size_t out_off = 0;     // floats into state_
    std::vector<std::pair<int, int>> ranges;  // partial: rows [first, last) to compute
  };
  void run_rows(const RStep& s, const float* in, float* out, int r0, int r1,
                float* scratch) const noexcept;
  void mirror_rows(const RStep& s, int r0, int r1) noexcept;

  std::vector<RStep> steps_;
  std::vector<float> state_;  // rings, plain outputs, scratch; 64-byte aligned from base_
  size_t base_ = 0, scratch_off_ = SIZE_MAX;
  int shift_ = 0, reusing_steps_ = 0, ring_steps_ = 0;
  double continued_ops_ = 0.0, full_ops_ = 0.0;
};

}  // namespace tkws
