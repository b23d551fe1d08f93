// Operator kernels on NHWC float activations (N = 1), in two sets:
//  - reference kernels: the formula written out once, weights in the model's PyTorch layout
//    (model.h), no fusion. The ground truth every faster path is tested against.
//  - fast kernels: weights repacked by the interpreter's prepare step (BatchNorm folded in,
//    ReLU fused), loops the compiler vectorises; built twice on x86 (baseline and AVX2+FMA)
//    and chosen at prepare time.
// A kernel reads `in` (args.in shape) and writes `out` (args.out shape); in != out. Windowed
// fast kernels may use `scratch` (padded_input_floats() floats, from the arena) for a
// zero-padded copy of their input; reference kernels ignore it. Kernels allocate nothing,
// never throw and do no checks: the interpreter validated everything.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinykws/format/model.h"

namespace tkws {

struct KernelArgs {
  ActShape in, out;
  Window win;                // Conv2D, DepthwiseConv2D, pools (op_window(), TF padding)
  const float* w = nullptr;  // weights / BatchNorm scale; layout: see each kernel
  const float* b = nullptr;  // bias / BatchNorm shift; nullptr = none
  int32_t ldw = 0;           // fast kernels: row stride of w and length of b (multiple of 8)
  bool relu = false;         // fast kernels: apply ReLU to the result
};
using KernelFn = void (*)(const KernelArgs& a, const float* in, float* out, float* scratch);

// Scratch floats a fast Conv2D / DepthwiseConv2D needs for a zero-padded copy of the input
// region its windows touch, [(out_h - 1) * sh + kh][(out_w - 1) * sw + kw][c]; 0 when every
// window lies inside the input (nothing to pad).
inline size_t padded_input_floats(const KernelArgs& a) {
  const int64_t hp = int64_t{a.out.h - 1} * a.win.sh + a.win.kh;
  const int64_t wp = int64_t{a.out.w - 1} * a.win.sw + a.win.kw;
  if (a.win.pad_top == 0 && a.win.pad_left == 0 && hp <= a.in.h && wp <= a.in.w) return 0;
  return static_cast<size_t>(hp * wp * a.in.c);
}

// ---- Reference kernels (weights as in model.h) ----------------------------------------------
// out[oh][ow][o] = b[o] + sum_{i,ky,kx} w[o][i][ky][kx] * in[oh*sh - pad_top + ky][...][i],
// cells outside the input count as 0. w [out_c][in_c][kh][kw], b [out_c] or null.
void ref_conv2d(const KernelArgs& a, const float* in, float* out, float* scratch = nullptr);
// Same with one filter per channel: w [c][1][kh][kw], b [c] or null.
void ref_depthwise_conv2d(const KernelArgs& a, const float* in, float* out,
                          float* scratch = nullptr);
// y = x * w[c] + b[c] (inference BatchNorm: w = scale, b = shift).
void ref_batch_norm(const KernelArgs& a, const float* in, float* out, float* scratch = nullptr);
// y = x < 0 ? 0 : x.
void ref_relu(const KernelArgs& a, const float* in, float* out, float* scratch = nullptr);
// Max over the window's cells inside the input (TF "same": padding never wins).
void ref_max_pool2d(const KernelArgs& a, const float* in, float* out, float* scratch = nullptr);
// Mean over the window's cells inside the input (TF: padding not counted).
void ref_avg_pool2d(const KernelArgs& a, const float* in, float* out, float* scratch = nullptr);
// out[c] = mean over h, w of in[h][w][c].
void ref_global_avg_pool(const KernelArgs& a, const float* in, float* out,
                         float* scratch = nullptr);
// out[o] = b[o] + sum_i w[o][i] * x[i], x = `in` flattened in NHWC order; w [out][in].
void ref_dense(const KernelArgs& a, const float* in, float* out, float* scratch = nullptr);
// Softmax over c at each (h, w): exp(x - max) / sum, in float.
void ref_softmax(const KernelArgs& a, const float* in, float* out, float* scratch = nullptr);

// The op table (docs/architecture.md, conventions): indexed by OpType value, its size checked
// against OpType::kCount. Op names: op_name() (format/model.h).
struct OpInfo {
  KernelFn reference;
};
// nullptr for values that are not an op (0, >= kCount).
const OpInfo* op_info(OpType t);

// ---- Fast kernels -----------------------------------------------------------------------------
// Weight layouts after prepare (ldw = round_up(channels, 8); padding lanes are zero):
//   conv2d     w [kh][kw][in_c][ldw], b [ldw]   (1x1 stride-1 convs use `pointwise`)
//   pointwise  w [in_c][ldw], b [ldw]
//   depthwise  w [kh][kw][ldw], b [ldw]
//   dense      w [out][in] (rows of ldw = round_up(in, 8) floats), b [out]
//   affine     w = scale [ldw], b = shift [ldw]  (BatchNorm on its own)
// b is never null for fast kernels (prepare writes zeros or folded BatchNorm shifts).
struct FastKernels {
  const char* isa;  // "generic", "avx2+fma"
  KernelFn conv2d, pointwise, depthwise, dense, affine, relu, global_avg_pool;
};
// Every fast kernel set this build has and this CPU can run, best first. `count` gets the
// number of entries (at least 1: the generic set).
const FastKernels* const* fast_kernel_sets(int* count);

inline int32_t round_up8(int32_t n) {
  return (n + 7) & ~7;
}

}  // namespace tkws
