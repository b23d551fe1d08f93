// int8 reference kernels and fixed-point helpers (ops_int8.h). Written for clarity: these are
// the ground truth the fast kernels (ops_int8_fast.cpp) are tested against bit for bit.
#include "tinykws/runtime/ops_int8.h"

#include <cmath>
#include <cstdint>

#include "tinykws/runtime/ref_loops.h"

namespace tkws {

QuantizedMultiplier quantize_multiplier(double m) {
  QuantizedMultiplier r;
  if (!(m > 0.0) || !std::isfinite(m)) return r;  // 0 (and invalid input): multiply by 0
  int e = 0;
  const double q = std::frexp(m, &e);  // m = q * 2^e, q in [0.5, 1)
  auto q31 = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q31 == (int64_t{1} << 31)) {  // q rounded up to 1.0
    q31 /= 2;
    ++e;
  }
  if (e < -31) return r;  // below 2^-32: rounds to 0 anyway
  if (e > 30) {
    e = 30;
    q31 = (int64_t{1} << 31) - 1;
  }
  r.m0 = static_cast<int32_t>(q31);
  r.shift = e;
  return r;
}

void int8_activation_range(FusedActivation act, int32_t out_zp, int32_t* act_min,
                           int32_t* act_max) {
  *act_min = -128;
  *act_max = 127;
  // ReLU: real 0 is q = out_zp (+ round(0 / scale) = 0).
  if (act == FusedActivation::kRelu && out_zp > *act_min) *act_min = out_zp;
}

namespace {

inline int8_t clamp_out(int32_t v, const Int8Args& a) {
  v = v < a.act_min ? a.act_min : v;
  v = v > a.act_max ? a.act_max : v;
  return static_cast<int8_t>(v);
}

// acc: the uint32 accumulator below, read back as int32 (two's complement).
inline int8_t requantize(uint32_t acc, int32_t o, const Int8Args& a) {
  return clamp_out(add_wrap(a.out_zp, multiply_by_quantized_multiplier(static_cast<int32_t>(acc),
                                                                       a.mult[o], a.shift[o])),
                   a);
}

// Accumulation of the weighted kernels: bias + sum of w * (x - in_zp), in uint32 so that the
// sum wraps modulo 2^32 as the vector kernels' int32 lanes do (add_wrap), never overflows.
inline uint32_t bias_init(const Int8Args& a, int32_t o) {
  return static_cast<uint32_t>(a.bias ? a.bias[o] : 0);
}
inline uint32_t zp_term(int8_t w, int8_t x, const Int8Args& a) {
  return static_cast<uint32_t>(int32_t{w} * (int32_t{x} - a.in_zp));
}

}  // namespace

void int8_ref_conv2d(const Int8Args& a, const int8_t* in, int8_t* out) {
  ref_loops::conv2d(
      a.win, a.in, a.out, a.w, in, out, [&](int32_t o) { return bias_init(a, o); },
      [&](int8_t w, int8_t x) { return zp_term(w, x, a); },
      [&](uint32_t acc, int32_t o) { return requantize(acc, o, a); });
}

void int8_ref_depthwise_conv2d(const Int8Args& a, const int8_t* in, int8_t* out) {
  ref_loops::depthwise_conv2d(
      a.win, a.in, a.out, a.w, in, out, [&](int32_t c) { return bias_init(a, c); },
      [&](int8_t w, int8_t x) { return zp_term(w, x, a); },
      [&](uint32_t acc, int32_t c) { return requantize(acc, c, a); });
}

void int8_ref_dense(const Int8Args& a, const int8_t* in, int8_t* out) {
  ref_loops::dense(
      a.in, a.out, a.w, in, out, [&](int32_t o) { return bias_init(a, o); },
      [&](int8_t w, int8_t x) { return zp_term(w, x, a); },
      [&](uint32_t acc, int32_t o) { return requantize(acc, o, a); });
}

void int8_ref_max_pool2d(const Int8Args& a, const int8_t* in, int8_t* out) {
  ref_loops::pool2d(
      a.win, a.in, a.out, in, out, int32_t{-128},
      [](int32_t& m, int8_t x) {
        const int32_t v = x;
        m = v > m ? v : m;
      },
      [&](int32_t m, int32_t) { return clamp_out(m, a); });
}

void int8_ref_avg_pool2d(const Int8Args& a, const int8_t* in, int8_t* out) {
  ref_loops::pool2d(
      a.win, a.in, a.out, in, out, int32_t{0}, [](int32_t& sum, int8_t x) { sum += x; },
      [&](int32_t sum, int32_t n) {
        // Rounded division, ties away from zero (C++ division truncates toward zero).
        const int32_t avg = n == 0 ? 0 : sum > 0 ? (sum + n / 2) / n : (sum - n / 2) / n;
        return clamp_out(avg, a);
      });
}

void int8_ref_global_avg_pool(const Int8Args& a, const int8_t* in, int8_t* out) {
  const size_t pixels = static_cast<size_t>(a.in.h) * a.in.w;
  for (int32_t c = 0; c < a.in.c; ++c) {
    int32_t sum = 0;
    for (size_t p = 0; p < pixels; ++p) sum += int32_t{in[p * a.in.c + c]} - a.in_zp;
    out[c] =
        clamp_out(add_wrap(a.out_zp, multiply_by_quantized_multiplier(sum, a.m0, a.m_shift)), a);
  }
}

void int8_ref_relu(const Int8Args& a, const int8_t* in, int8_t* out) {
  const size_t n = a.in.size();
  for (size_t i = 0; i < n; ++i) out[i] = clamp_out(in[i], a);
}

// ---- Softmax --------------------------------------------------------------------------------
// Fixed-point numbers are raw int32 with I integer bits and 31 - I fractional bits ("QI"):
// the value is raw / 2^(31 - I). A product of QI and QJ through
// saturating_rounding_doubling_high_mul is Q(I + J). Constants are round(value * 2^(31 - I));
// tests/compress/fixed_point_test.cpp recomputes each from its formula.
namespace {

constexpr int kDiffIntBits = 5;  // scaled differences x - max: Q5.26, range (-32, 0]
constexpr int kSumIntBits = 12;  // sum of exponentials: Q12.19, up to 4096 classes

// x * 2^e with saturation for e > 0, rounding (ties away from zero) for e < 0
// (gemmlowp SaturatingRoundingMultiplyByPOT).
inline int32_t mul_by_pot(int32_t x, int e) {
  if (e < 0) return rounding_divide_by_pot(x, -e);
  if (e == 0) return x;
  const int32_t threshold = (int32_t{1} << (31 - e)) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return static_cast<int32_t>(static_cast<uint32_t>(x) << e);
}

inline int32_t fx_mul(int32_t a, int32_t b) {
  return saturating_rounding_doubling_high_mul(a, b);
}

// exp(a) for a in [-1/4, 0), Q0.31 in and out: Taylor series around -1/8 to the 4th order,
// exp(-1/8) * (1 + x + x^2/2 + x^3/6 + x^4/24), x = a + 1/8.
int32_t exp_quarter_interval(int32_t a) {
  constexpr int32_t kExpMinus1Over8 = 1895147668;  // exp(-1/8), Q0.31
  constexpr int32_t kOneThird = 715827883;         // 1/3, Q0.31
  const int32_t x = a + (int32_t{1} << 28);        // + 1/8
  const int32_t x2 = fx_mul(x, x), x3 = fx_mul(x2, x), x4 = fx_mul(x2, x2);
  const int32_t x4_over_4 = mul_by_pot(x4, -2);
  // (x^4/4 + x^3) / 3 + x^2, halved: x^4/24 + x^3/6 + x^2/2.
  const int32_t poly = mul_by_pot(fx_mul(x4_over_4 + x3, kOneThird) + x2, -1);
  return kExpMinus1Over8 + fx_mul(kExpMinus1Over8, x + poly);
}

// exp(a) for a <= 0, a in Q5.26, result Q0.31. a = -(k/4) + r with r in [-1/4, 0):
// exp(r) from the series above times exp(-2^j) for every set bit j of the multiple of 1/4.
int32_t exp_on_negative(int32_t a) {
  constexpr int kFrac = 31 - kDiffIntBits;                 // 26
  constexpr int32_t kQuarter = int32_t{1} << (kFrac - 2);  // 1/4 in Q5.26
  const int32_t r = (a & (kQuarter - 1)) - kQuarter;       // a mod 1/4, shifted to [-1/4, 0)
  int32_t result = exp_quarter_interval(mul_by_pot(r, kDiffIntBits));  // Q5.26 -> Q0.31
  const int32_t remainder = r - a;  // a non-negative multiple of 1/4: -(a - r)
  // exp(-2^j), Q0.31, j = -2 .. 4 (|a| < 32 = 2^5 needs no more).
  constexpr int32_t kExpMinusPow2[7] = {1672461947, 1302514674, 790015084, 290630308,
                                        39332535,   720401,     242};
  for (int j = -2; j <= 4; ++j)
    if (remainder & (int32_t{1} << (kFrac + j))) result = fx_mul(result, kExpMinusPow2[j + 2]);
  return a == 0 ? INT32_MAX : result;  // exp(0) = 1: the largest Q0.31 value
}

// 1 / (1 + x) for x in [0, 1), Q0.31 in and out: Newton-Raphson on the half denominator
// d = (1 + x) / 2 in [1/2, 1), start 48/17 - 32/17 d, three steps x <- x + x (1 - d x) (in Q2.29),
// then 1 / (1 + x) = (1 / d) / 2.
int32_t one_over_one_plus_x(int32_t x) {
  // d = (x + 1) / 2, rounded half away from zero (gemmlowp RoundingHalfSum; 1.0 = INT32_MAX).
  const int64_t sum = int64_t{x} + INT32_MAX;
  const auto d = static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
  constexpr int32_t k48Over17 = 1515870810;           // 48/17, Q2.29
  constexpr int32_t kMinus32Over17 = -1010580540;     // -32/17, Q2.29
  constexpr int32_t kOneQ2 = int32_t{1} << 29;        // 1.0, Q2.29
  int32_t r = k48Over17 + fx_mul(d, kMinus32Over17);  // Q0 * Q2 -> Q2
  for (int i = 0; i < 3; ++i) {
    const int32_t one_minus_dr = kOneQ2 - fx_mul(d, r);  // Q2
    r = r + mul_by_pot(fx_mul(r, one_minus_dr), 2);      // Q2 * Q2 = Q4 -> Q2
  }
  // r / 2 reinterpreted as Q1 has r's raw bits; Q1 -> Q0 is a saturating doubling.
  return mul_by_pot(r, 1);
}

// 1 / sum for a positive Q(int_bits) sum: returns the Q0.31 reciprocal of sum / 2^over,
// *over = int_bits - (leading zeros), so 1 / sum = result * 2^-over.
int32_t reciprocal(int32_t sum, int int_bits, int* over) {
  const int lz = __builtin_clz(static_cast<uint32_t>(sum));
  *over = int_bits - lz;
  // sum * 2^lz has its top bit at 2^31: read as Q1.31 it is in [1, 2); minus one -> [0, 1).
  const auto frac = static_cast<int32_t>((static_cast<uint32_t>(sum) << lz) - (uint32_t{1} << 31));
  return one_over_one_plus_x(frac);
}

}  // namespace

int32_t fixed_exp_on_negative_values(int32_t a_q5_26) {
  return exp_on_negative(a_q5_26);
}
int32_t fixed_one_over_one_plus_x(int32_t x_q0_31) {
  return one_over_one_plus_x(x_q0_31);
}

void int8_softmax_params(float input_scale, float beta, int32_t* m0, int32_t* left_shift,
                         int32_t* diff_min) {
  const double real = std::fmin(static_cast<double>(beta) * input_scale *
                                    static_cast<double>(int64_t{1} << (31 - kDiffIntBits)),
                                static_cast<double>(int64_t{1} << 31) - 1.0);
  QuantizedMultiplier q = quantize_multiplier(real);
  if (q.shift < 0) q = {0, 0};  // multiplier < 1 (input scale below 2^-26): unsupported range
  *m0 = q.m0;
  *left_shift = q.shift;
  const double radius = static_cast<double>((int64_t{1} << kDiffIntBits) - 1) *
                        static_cast<double>(int64_t{1} << (31 - kDiffIntBits)) /
                        static_cast<double>(int64_t{1} << q.shift);
  *diff_min = -static_cast<int32_t>(std::floor(radius));
}

void int8_ref_softmax(const Int8Args& a, const int8_t* in, int8_t* out) {
  const size_t pixels = static_cast<size_t>(a.in.h) * a.in.w;
  const int32_t n = a.in.c;
  for (size_t p = 0; p < pixels; ++p) {
    const int8_t* x = in + p * n;
    int8_t* y = out + p * n;
    int32_t mx = x[0];
    for (int32_t c = 1; c < n; ++c) mx = x[c] > mx ? x[c] : mx;
    // exp(beta * s_in * (x - max)) in Q0.31, for differences >= diff_min (others are 0).
    auto exp_of = [&](int32_t c) {
      const int32_t diff = int32_t{x[c]} - mx;
      const int32_t scaled =
          saturating_rounding_doubling_high_mul(diff * (int32_t{1} << a.m_shift), a.m0);  // Q5.26
      return exp_on_negative(scaled);
    };
    int32_t sum = 0;  // Q12.19
    for (int32_t c = 0; c < n; ++c)
      if (int32_t{x[c]} - mx >= a.diff_min)
        sum += rounding_divide_by_pot(exp_of(c), kSumIntBits);  // Q0.31 -> Q12.19
    int over = 0;
    const int32_t inv = reciprocal(sum, kSumIntBits, &over);  // 1 / sum = inv * 2^-over
    for (int32_t c = 0; c < n; ++c) {
      if (int32_t{x[c]} - mx < a.diff_min) {
        y[c] = -128;
        continue;
      }
      // probability * 256 = exp * inv * 2^-over * 2^8, rounded; then zero point -128.
      const int32_t q = rounding_divide_by_pot(fx_mul(inv, exp_of(c)), over + 31 - 8) - 128;
      y[c] = static_cast<int8_t>(q < -128 ? -128 : q > 127 ? 127 : q);
    }
  }
}

Int8KernelFn int8_ref_kernel(OpType t) {
  switch (t) {
    case OpType::kConv2D:
      return int8_ref_conv2d;
    case OpType::kDepthwiseConv2D:
      return int8_ref_depthwise_conv2d;
    case OpType::kRelu:
      return int8_ref_relu;
    case OpType::kMaxPool2D:
      return int8_ref_max_pool2d;
    case OpType::kAvgPool2D:
      return int8_ref_avg_pool2d;
    case OpType::kGlobalAvgPool:
      return int8_ref_global_avg_pool;
    case OpType::kDense:
      return int8_ref_dense;
    case OpType::kSoftmax:
      return int8_ref_softmax;
    case OpType::kBatchNorm:
    case OpType::kCount:
      break;
  }
  return nullptr;
}

namespace {
// std::round (half away from zero) for float, written out: exact for every input, and inline,
// where std::round is a libm call on a core without a rounding instruction (a Cortex-M4's FPv4
// has none: it cost as much as the rest of the quantisation there). |v| < 2^23: the truncation
// t is exact, and so is v - t; larger values, infinities and NaN come back as they are.
inline float round_half_away(float v) {
  if (!(std::fabs(v) < 8388608.0f)) return v;
  const float t = static_cast<float>(static_cast<int32_t>(v));
  const float d = v - t;
  return d >= 0.5f ? t + 1.0f : d <= -0.5f ? t - 1.0f : t;
}
}  // namespace

void int8_quantize(const float* x, size_t n, float scale, int32_t zero_point, int8_t* q) {
  for (size_t i = 0; i < n; ++i) {
    float v = round_half_away(x[i] / scale) + static_cast<float>(zero_point);
    v = v > 127.0f ? 127.0f : v;
    q[i] = v >= -128.0f ? static_cast<int8_t>(v) : int8_t{-128};  // NaN -> -128
  }
}

void int8_dequantize(const int8_t* q, size_t n, float scale, int32_t zero_point, float* x) {
  for (size_t i = 0; i < n; ++i) x[i] = scale * static_cast<float>(int32_t{q[i]} - zero_point);
}

}  // namespace tkws
