// Natural logarithm for the front end's ln(mel + log_offset), written so that a loop over an
// array vectorises (no table, no branches: selects only). log_approx() is the scalar reference;
// log_approx_in_place() runs the same operations over an array, so both give the same bits.
//
// Method (textbook range reduction + atanh series, no code from elsewhere):
//   x = 2^e * m with m in [sqrt(1/2), sqrt(2)),  ln x = e ln2 + ln m,
//   ln m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + s^7/7 + s^9/9 + ...),  s = (m - 1) / (m + 1).
// |s| <= (sqrt2 - 1) / (sqrt2 + 1) = 0.1716, so the first omitted term 2 s^11 / 11 is below
// 7e-10 absolute and 2e-9 relative to ln m: far below float32 rounding (6e-8). ln2 is split
// into ln2_hi (15 significant bits, so e * ln2_hi is exact for |e| <= 2^9) and ln2_lo.
// Error: at most 2 ulp against the correctly rounded ln x for every positive finite float
// (tests/frontend/fast_log_test.cpp sweeps them and states the measured maximum).
// Special inputs: +0 -> -inf, +inf and NaN -> themselves, negative -> NaN; subnormals are scaled
// by 2^24 first, so every positive float is handled exactly as well as a normal one.
#pragma once
#include <bit>
#include <cstdint>
#include <limits>

namespace tkws {

// c ? a : b by bit masks: keeps compilers from turning the select into a branch (and then
// from vectorising a loop of log_approx calls).
inline float select_bits(bool c, float a, float b) {
  const uint32_t mask = 0u - static_cast<uint32_t>(c);
  return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & mask) |
                              (std::bit_cast<uint32_t>(b) & ~mask));
}

inline float log_approx(float x) {
  constexpr float kLn2Hi = 0.693145751953125f;        // 22713 / 2^15
  constexpr float kLn2Lo = 1.42860682028622677e-06f;  // ln 2 - kLn2Hi
  constexpr uint32_t kSqrtHalfBits = 0x3f3504f3u;     // bits of float(sqrt(1/2))
  // Every test is on the bit pattern (integer compares cannot trap, so compilers turn them
  // into selects and vectorise the loop). Subnormals (and +0): scale by 2^24 into the normal
  // range, remove the 24 from the exponent below.
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  const bool tiny = bits < 0x00800000u;
  const float xs = x * select_bits(tiny, 16777216.0f, 1.0f);
  // Subtracting sqrt(1/2)'s bits moves the exponent boundary from 1.0 to sqrt(1/2): the
  // exponent field of (bits - kSqrtHalfBits) is e, the mantissa field + kSqrtHalfBits is m.
  const int32_t ix = static_cast<int32_t>(std::bit_cast<uint32_t>(xs) - kSqrtHalfBits);
  const int32_t e = (ix >> 23) - (tiny ? 24 : 0);  // arithmetic shift (C++20)
  const float m = std::bit_cast<float>((static_cast<uint32_t>(ix) & 0x007fffffu) + kSqrtHalfBits);
  const float f = m - 1.0f;  // exact (Sterbenz), in [-0.293, 0.415)
  const float s = f / (2.0f + f);
  const float z = s * s;
  // 2 atanh(s) = 2 s + s z (2/3 + z (2/5 + z (2/7 + z 2/9)))
  const float p =
      0.666666666666666667f + z * (0.4f + z * (0.285714285714285714f + z * 0.222222222222222222f));
  const float ef = static_cast<float>(e);
  const float r = ef * kLn2Hi + (ef * kLn2Lo + (2.0f * s + s * z * p));
  // +inf, NaN -> x; x < 0 (also -inf, -NaN) -> NaN; +-0 -> -inf; as std::log.
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const float special = select_bits(bits > 0x80000000u, std::numeric_limits<float>::quiet_NaN(), x);
  const float out = select_bits(bits >= 0x7f800000u, special, r);
  return select_bits((bits & 0x7fffffffu) == 0, -kInf, out);
}

// x[i] = ln(x[i] + offset) for i in [0, n). The loop body is log_approx(): GCC and Clang turn
// it into SIMD code (SSE2 / AVX2 / NEON), with identical results to the scalar calls.
inline void log_offset_in_place(float* x, int n, float offset) {
  for (int i = 0; i < n; ++i) x[i] = log_approx(x[i] + offset);
}

}  // namespace tkws
