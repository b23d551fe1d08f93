// Operator kernels on NHWC float activations (N = 1), in two sets:
//  - reference kernels: the formula written out once, weights in the model's PyTorch layout
//    (model.h), no fusion. The ground truth every faster path is tested against.
//  - fast kernels: weights repacked by the interpreter's prepare step (BatchNorm folded in,
//    ReLU fused), loops the compiler vectorises; built twice on x86 (baseline and AVX2+FMA)
//    and chosen at prepare time.
// A kernel reads `in` (args.in shape) and writes `out` (args.out shape); in != out. Kernels
// allocate nothing, never throw and do no checks: the interpreter validated everything.
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
using KernelFn = void (*)(const KernelArgs& a, const float* in, float* out);

// ---- Reference kernels (weights as in model.h) ----------------------------------------------
// out[oh][ow][o] = b[o] + sum_{i,ky,kx} w[o][i][ky][kx] * in[oh*sh - pad_top + ky][...][i],
// cells outside the input count as 0. w [out_c][in_c][kh][kw], b [out_c] or null.
void ref_conv2d(const KernelArgs& a, const float* in, float* out);
// Same with one filter per channel: w [c][1][kh][kw], b [c] or null.
void ref_depthwise_conv2d(const KernelArgs& a, const float* in, float* out);
// y = x * w[c] + b[c] (inference BatchNorm: w = scale, b = shift).
void ref_batch_norm(const KernelArgs& a, const float* in, float* out);
// y = x < 0 ? 0 : x.
void ref_relu(const KernelArgs& a, const float* in, float* out);
// Max over the window's cells inside the input (TF "same": padding never wins).
void ref_max_pool2d(const KernelArgs& a, const float* in, float* out);
// Mean over the window's cells inside the input (TF: padding not counted).
void ref_avg_pool2d(const KernelArgs& a, const float* in, float* out);
// out[c] = mean over h, w of in[h][w][c].
void ref_global_avg_pool(const KernelArgs& a, const float* in, float* out);
// out[o] = b[o] + sum_i w[o][i] * x[i], x = `in` flattened in NHWC order; w [out][in].
void ref_dense(const KernelArgs& a, const float* in, float* out);
// Softmax over c at each (h, w): exp(x - max) / sum, in float.
void ref_softmax(const KernelArgs& a, const float* in, float* out);

// The op table (STYLE #7): indexed by OpType value, its size checked against OpType::kCount.
struct OpInfo {
  const char* name;
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

inline int32_t round_up8(int32_t n) { return (n + 7) & ~7; }

}  // namespace tkws
