// Integer-only kernels for int8 models (TFLite's int8 scheme: docs/training.md, model.h
// "int8 models"), in two sets like ops.h:
//  - reference kernels: weights as stored in the model (model.h layouts), the formula written
//    out once, one kernel per op. The ground truth.
//  - fast kernels (Conv2D, 1x1 "pointwise" Conv2D, DepthwiseConv2D, Dense, GlobalAvgPool):
//    weights repacked by int8_fast_pack(), int32 accumulators in registers, vector code (AVX2
//    intrinsics in the AVX2 set); built per instruction set (ops_int8_fast.cpp: baseline and
//    AVX2) and chosen at prepare time. They compute the very same integers as the reference kernels
//    (tests/compress/int8_ops_test.cpp checks bit-exactness over many shapes): integer sums
//    are exact in any order, and the requantisation is the same function in branch-free form.
// Activations are NHWC int8 (N = 1). Kernels allocate nothing, never throw and do no checks:
// Int8Network::prepare() validated everything. in != out.
//
// Requantisation (Jacob et al., CVPR 2018; TFLite): a real multiplier M = s_in * s_w / s_out
// is stored as M0 * 2^shift with M0 in [2^30, 2^31) (a Q0.31 value in [0.5, 1)); an int32
// accumulator acc becomes multiply_by_quantized_multiplier(acc, M0, shift) ~= round(acc * M).
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinykws/format/model.h"

namespace tkws {

// ---- Fixed-point helpers (gemmlowp / TFLite semantics, bit for bit) ---------------------------

// M = m0 * 2^shift, m0 in [2^30, 2^31) (Q0.31 in [0.5, 1)); shift > 0 is a left shift.
struct QuantizedMultiplier {
  int32_t m0 = 0;
  int32_t shift = 0;
};

// TFLite's QuantizeMultiplier: frexp(M) = q * 2^shift, q in [0.5, 1); m0 = round(q * 2^31)
// (half away from zero); m0 == 2^31 becomes 2^30 with shift + 1. M == 0 (or so small that
// shift < -31) gives {0, 0}; shift > 30 saturates to {2^31 - 1, 30}. M must be finite, >= 0.
QuantizedMultiplier quantize_multiplier(double m);

// gemmlowp SaturatingRoundingDoublingHighMul: a * b / 2^31 rounded to nearest, ties toward
// +infinity (a nudge of 2^30 or 1 - 2^30, then a division truncating toward zero); the one
// overflow case a = b = INT32_MIN gives INT32_MAX. As Q0.31 numbers: their product.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = static_cast<int64_t>(a) * b;
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30);
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.
// exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// TFLite MultiplyByQuantizedMultiplier (the default, double-rounding form):
// rounding_divide_by_pot(srdhm(x * 2^max(shift, 0), m0), max(-shift, 0)). The pre-shift
// x * 2^shift saturates to int32 where TFLite would overflow (only for M >= 1 and huge x).
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t m0, int32_t shift) {
  int32_t xs = x;
  if (shift > 0) {
    const int64_t v = static_cast<int64_t>(x) * (int64_t{1} << shift);
    xs = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : static_cast<int32_t>(v);
  }
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(xs, m0),
                                shift < 0 ? -shift : 0);
}

// a + b wrapping modulo 2^32, as the vector kernels' 32-bit lanes add: defined for every input.
// Int8Network::prepare refuses parameters under which a kernel's accumulator or out_zp + mbqm
// could leave int32, so only kernels called directly with such parameters (tests) ever wrap.
inline int32_t add_wrap(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// The fixed-point functions behind int8_ref_softmax (gemmlowp semantics), exposed for tests.
// exp(a) for a <= 0: a in Q5.26 (raw / 2^26), result in Q0.31 (raw / 2^31; exp(0) = 2^31 - 1).
int32_t fixed_exp_on_negative_values(int32_t a_q5_26);
// 1 / (1 + x) for x in [0, 1): x and result in Q0.31.
int32_t fixed_one_over_one_plus_x(int32_t x_q0_31);

// The same function for m0 > 0 (every multiplier quantize_multiplier makes) and shift <= 0
// (M < 1, the usual case), written without branches so that loops over it vectorise (AVX2,
// NEON): right = -shift. For m0 > 0, srdhm(x, m0) = floor((x * m0 + 2^30) / 2^31) (the
// INT32_MIN * INT32_MIN case cannot occur), and its low 32 bits are the same from a logical
// shift; the rounding shift is gemmlowp's, in 32 bits.
[[gnu::always_inline]] inline int32_t multiply_by_quantized_multiplier_right(int32_t x, int32_t m0,
                                                                             int32_t right) {
  const auto p = static_cast<uint64_t>(static_cast<int64_t>(x) * m0 + (int64_t{1} << 30));
  const auto h = static_cast<int32_t>(static_cast<uint32_t>(p >> 31));
  const auto mask = static_cast<int32_t>((uint32_t{1} << right) - 1u);
  const int32_t threshold = (mask >> 1) + (h < 0 ? 1 : 0);
  return (h >> right) + ((h & mask) > threshold ? 1 : 0);
}
// Any shift, m0 > 0: left = max(shift, 0), right = max(-shift, 0); x * 2^left saturates.
inline int32_t multiply_by_quantized_multiplier_split(int32_t x, int32_t m0, int32_t left,
                                                      int32_t right) {
  int64_t xs = static_cast<int64_t>(x) << left;
  xs = xs > INT32_MAX ? INT32_MAX : xs;
  xs = xs < INT32_MIN ? INT32_MIN : xs;
  return multiply_by_quantized_multiplier_right(static_cast<int32_t>(xs), m0, right);
}

// ---- Kernel arguments --------------------------------------------------------------------------

struct Int8Args {
  ActShape in, out;
  Window win;                 // Conv2D, DepthwiseConv2D, pools (op_window(), TF padding)
  const int8_t* w = nullptr;  // reference kernels: weights in model.h layout
  // Fast kernels: weights packed by int8_fast_pack(), int16 (wp: the rows and pairs packings)
  // or int8 (wp8: the rows8 packing, and Dense in every packing); Int8FastLayout::weight_bytes
  // says which.
  const int16_t* wp = nullptr;
  const int8_t* wp8 = nullptr;
  // Reference: [out_c] int32 bias (scale s_in * s_w[c]) or null. Fast: packed bias, never null.
  const int32_t* bias = nullptr;
  const int32_t* mult = nullptr;   // [out_c] M0 of s_in * s_w[c] / s_out (equal if per tensor)
  const int32_t* shift = nullptr;  // [out_c] its shift
  int32_t in_zp = 0, out_zp = 0;   // zero points of input and output
  int32_t act_min = -128, act_max = 127;  // output clamp (fused ReLU: act_min = max(-128, out_zp))
  int32_t ldw = 0;  // fast kernels: row stride of wp / wp8 in weights (multiple of 8)
  // GlobalAvgPool: M0 / shift of s_in / (s_out * pixels). Softmax: M0 / left shift of the
  // input scale (int8_softmax_params) and its diff_min.
  int32_t m0 = 0, m_shift = 0, diff_min = 0;
};
using Int8KernelFn = void (*)(const Int8Args& a, const int8_t* in, int8_t* out);

// Output clamp of an op with `act` and output zero point `out_zp` (TFLite
// CalculateActivationRangeQuantized): ReLU -> [max(-128, out_zp), 127], none -> [-128, 127].
void int8_activation_range(FusedActivation act, int32_t out_zp, int32_t* act_min, int32_t* act_max);

// Softmax parameters for input scale `input_scale` and beta (TFLite's PreprocessSoftmaxScaling
// with 5 integer bits for the scaled difference): M = min(beta * s_in * 2^26, 2^31 - 1) as
// {m0, left_shift >= 0}; diff_min = -floor((2^5 - 1) * 2^26 / 2^left_shift) (differences
// below it give exp = 0 and are skipped, which also keeps diff * 2^left_shift in int32).
void int8_softmax_params(float input_scale, float beta, int32_t* m0, int32_t* left_shift,
                         int32_t* diff_min);

// ---- Reference kernels (weights as in model.h) -------------------------------------------------
// acc[o] = bias[o] + sum_{i,ky,kx} w[o][i][ky][kx] * (in[ih][iw][i] - in_zp), cells outside the
// input skipped (they are real 0); out = clamp(out_zp + mbqm(acc, mult[o], shift[o]), act).
// w [out_c][in_c][kh][kw] int8.
void int8_ref_conv2d(const Int8Args& a, const int8_t* in, int8_t* out);
// Same with one filter per channel: w [c][1][kh][kw].
void int8_ref_depthwise_conv2d(const Int8Args& a, const int8_t* in, int8_t* out);
// acc[o] = bias[o] + sum_i w[o][i] * (x[i] - in_zp), x = `in` flattened (NHWC); w [out][in].
void int8_ref_dense(const Int8Args& a, const int8_t* in, int8_t* out);
// Max of the raw values over the window cells inside the input, clamped to [act_min, act_max]
// (input and output share scale and zero point).
void int8_ref_max_pool2d(const Int8Args& a, const int8_t* in, int8_t* out);
// TFLite's int8 average pool (shared scale and zero point): sum of the raw values over the n
// window cells inside the input, divided by n rounding half away from zero, clamped.
void int8_ref_avg_pool2d(const Int8Args& a, const int8_t* in, int8_t* out);
// out[c] = clamp(out_zp + mbqm(sum_{h,w} (in[h][w][c] - in_zp), m0, m_shift)), with
// M = s_in / (s_out * pixels): the mean and the change of scale in one rounding.
void int8_ref_global_avg_pool(const Int8Args& a, const int8_t* in, int8_t* out);
// out = clamp(in, act_min, act_max): a Relu with shared params (act_min = max(-128, zp)).
void int8_ref_relu(const Int8Args& a, const int8_t* in, int8_t* out);
// Softmax over c at each (h, w), int8 in -> int8 out with scale 1/256, zero point -128:
// TFLite's fixed-point algorithm (gemmlowp exp_on_negative_values on Q5.26 differences, a
// Q12.19 sum of exponentials, a Newton-Raphson reciprocal), integer-only and so identical on
// every platform; documented step by step in ops_int8.cpp. Uses m0, m_shift, diff_min.
void int8_ref_softmax(const Int8Args& a, const int8_t* in, int8_t* out);

// Reference kernel of an int8 model op (nullptr for BatchNorm, which int8 models fold away).
Int8KernelFn int8_ref_kernel(OpType t);

// float -> int8: q = clamp(round(x / scale) + zero_point, -128, 127), round half away from zero
// (TFLite's Quantize); NaN -> -128.
void int8_quantize(const float* x, size_t n, float scale, int32_t zero_point, int8_t* q);
// int8 -> float: real = scale * (q - zero_point).
void int8_dequantize(const int8_t* q, size_t n, float scale, int32_t zero_point, float* x);

// ---- Fast kernels ------------------------------------------------------------------------------
// Packed layouts (zero padding lanes and pad entries; bias copied, zero if none), in one of
// three packings, the one the kernel set asks for (Int8FastKernels::packing):
//   kConv2D    products k = (ky * kw + kx) * in_c + ci, K = kh * kw * in_c of them:
//                rows:  wp [K][ldw] (int16); rows8: wp8 [K][ldw] (int8)
//                pairs: wp [ceil(K / 2)][ldw][2] (int16; pair p of output channel o: products
//                       2p, 2p + 1)
//              ldw = round_up8(out_c); bias [ldw]
//   kPointwise 1x1 stride-1 Conv2D, the same layout (k = ci)
//   kDepthwise taps t = ky * kw + kx, T = kh * kw of them:
//                rows:  wp [T][ldw] (int16); rows8: wp8 [T][ldw] (int8)
//                pairs: wp [ceil(T / 2)][ldw][2] (int16)
//              ldw = round_up8(c); bias [ldw]
//   kDense     wp8 [out][ldw] (int8), ldw = round_up8(n_in); bias [out] (every packing)
// With pairs, the packed bias of kConv2D, kPointwise and kDepthwise is followed by the
// requantisation constants of the vectorised requantisation, made once from mult and shift
// (which must be set in the args given to int8_fast_pack): per block of 8 output channels,
// kInt8RequantVecs vectors of 8 int32 (Int8RequantBlock), channels past out_c harmless
// (m0 = 2^30, right = 0). When any output channel of the op has a left shift (M >= 1), the
// whole op takes the scalar form instead.
// Pairs (the AVX2 set): a pair is read as one int32 (first + second * 2^16, native byte order): one
// 16-bit multiply-add instruction (AVX2 vpmaddwd) takes 8 of them and 8 pairs of inputs to 8 int32
// sums. Rows (the generic set of SIMD builds: SSE2, NEON): int16 weights widened to int32
// lanes on load (one instruction on NEON) or multiplied in 16 bits. Rows8 (the scalar set: a
// core without SIMD, e.g. a Cortex-M; TKWS_INT8_SCALAR): the weights stay int8, as stored, one
// byte each in a board's RAM. Activations enter the sums as (x - in_zp) in [-255, 255], so
// skipped padding cells count as real 0 exactly as in the reference. Sums stay exact in int32 while
// k * 127 * 255 + |bias| < 2^31 (k products per output; Int8Network::prepare checks it).
enum class Int8FastKind : uint8_t { kConv2D, kPointwise, kDepthwise, kDense };

// Requantisation constants of 8 output channels c0 + j (j < 8) for
// multiply_by_quantized_multiplier_right with right = max(-shift, 0):
struct Int8RequantBlock {
  int32_t m0[8];      // m0 of channel c0 + j
  int32_t m0_odd[8];  // lane 2i: m0 of channel c0 + 2i + 1 (the odd lanes' 32x32->64 multiply)
  int32_t mask[8];    // 2^right - 1
  int32_t half[8];    // mask >> 1
  int32_t right[8];   // right
};
constexpr int32_t kInt8RequantVecs = sizeof(Int8RequantBlock) / (8 * sizeof(int32_t));
// Fills the requantisation constants of channels [0, ldw) (ldw a multiple of 8) from
// mult / shift [n]; blocks = ldw / 8.
void int8_requant_pack(const int32_t* mult, const int32_t* shift, int32_t n, int32_t ldw,
                       Int8RequantBlock* blocks);
enum class Int8Packing : uint8_t { kRows, kPairs, kRows8 };

// The fast kind for a weighted op on these args (Conv2D 1x1 stride 1 -> kPointwise);
// false for other ops.
bool int8_fast_kind(OpType t, const Int8Args& a, Int8FastKind* kind);

struct Int8FastLayout {
  int32_t ldw = 0;
  size_t weight_count = 0;  // packed weights (wp or wp8 values)
  size_t weight_bytes = 0;  // bytes per packed weight: 2 (int16, wp) or 1 (int8, wp8)
  size_t bias_count = 0;    // int32 values of the packed bias
};
Int8FastLayout int8_fast_layout(Int8FastKind k, Int8Packing p, const Int8Args& a);

// Packs model-layout weights w (int8) and bias b (int32 [out_c], or null) into wp and bp
// (sized by int8_fast_layout with the same packing: weight_count values of weight_bytes each;
// wp aligned for int16 when weight_bytes is 2).
void int8_fast_pack(Int8FastKind k, Int8Packing p, const Int8Args& a, const int8_t* w,
                    const int32_t* b, void* wp, int32_t* bp);

// One instruction set's fast kernels. global_avg_pool takes the reference's arguments (no
// packing): channels innermost instead of pixels innermost.
struct Int8FastKernels {
  const char* isa;      // "generic", "avx2"
  Int8Packing packing;  // how its weights are packed (int8_fast_pack)
  Int8KernelFn conv2d, pointwise, depthwise, dense, global_avg_pool;
  // int8_quantize, bit for bit (the reference itself in sets without a vector form).
  void (*quantize)(const float* x, size_t n, float scale, int32_t zero_point, int8_t* q);
  Int8KernelFn get(Int8FastKind k) const;
};
// Every fast kernel set this build has and this CPU can run, best first. `count` gets the
// number of entries (at least 1: the generic set).
const Int8FastKernels* const* int8_fast_kernel_sets(int* count);

}  // namespace tkws
