// Fixed-point helpers of runtime/ops_int8.h against hand-computed values (gemmlowp / TFLite
// semantics) and against double arithmetic with stated bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "../format/test_models.h"
#include "tinykws/runtime/ops_int8.h"

namespace tkws {
namespace {

using testing_models::Rng;

TEST(QuantizeMultiplier, HandComputedValues) {
  struct Case {
    double m;
    int32_t m0, shift;
  };
  const Case cases[] = {
      {0.5, 1 << 30, 0},                         // 0.5 = 0.5 * 2^0
      {1.0, 1 << 30, 1},                         // 1 = 0.5 * 2^1
      {0.25, 1 << 30, -1},                       // 0.25 = 0.5 * 2^-1
      {0.75, 1610612736, 0},                     // 0.75 * 2^31
      {0.1, 1717986918, -3},                     // 0.1 = 0.8 * 2^-3; round(0.8 * 2^31) = 1717986918
      {3.0, 1610612736, 2},                      // 3 = 0.75 * 2^2
      {1.0 - std::ldexp(1.0, -40), 1 << 30, 1},  // q rounds up to 1.0 -> 0.5 * 2^1
      {0.0, 0, 0},                               // zero multiplier
      {std::ldexp(1.0, -40), 0, 0},              // below 2^-32: flushed to zero
      {std::ldexp(1.0, 40), INT32_MAX, 30},      // saturates
  };
  for (const Case& c : cases) {
    const QuantizedMultiplier q = quantize_multiplier(c.m);
    EXPECT_EQ(q.m0, c.m0) << "M = " << c.m;
    EXPECT_EQ(q.shift, c.shift) << "M = " << c.m;
  }
}

TEST(QuantizeMultiplier, NormalisedAndAccurate) {
  Rng rng(11);
  for (int i = 0; i < 10000; ++i) {
    const double m = std::exp(rng.uniform(-20.0f, 5.0f));
    const QuantizedMultiplier q = quantize_multiplier(m);
    ASSERT_GE(q.m0, 1 << 30);
    ASSERT_LE(q.m0, INT32_MAX);
    // m0 is m * 2^(31 - shift) rounded: relative error at most 2^-31 (half a unit of 2^-31 on
    // a mantissa >= 1/2).
    const double back = std::ldexp(static_cast<double>(q.m0), q.shift - 31);
    ASSERT_LE(std::fabs(back - m), m * std::ldexp(1.0, -31)) << m;
  }
}

TEST(SaturatingRoundingDoublingHighMul, HandComputedValues) {
  EXPECT_EQ(saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);       // .5 * .5
  EXPECT_EQ(saturating_rounding_doubling_high_mul(INT32_MIN, 1 << 30), -(1 << 30));  // -1 * .5
  EXPECT_EQ(saturating_rounding_doubling_high_mul(INT32_MAX, INT32_MAX), INT32_MAX - 1);
  // Ties (x * 2^30 / 2^31 = x / 2) round toward +infinity.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);    // 0.5 -> 1
  EXPECT_EQ(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5 -> 2
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);   // -0.5 -> 0
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);  // -1.5 -> -1
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-5, 1 << 30), -2);  // -2.5 -> -2
  // Not ties: nearest.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1000, 1717986918), 800);  // 799.9999998
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1000, 1717986918), -800);
}

TEST(RoundingDivideByPOT, HandComputedValues) {
  // Ties away from zero.
  EXPECT_EQ(rounding_divide_by_pot(3, 1), 2);    // 1.5
  EXPECT_EQ(rounding_divide_by_pot(-3, 1), -2);  // -1.5
  EXPECT_EQ(rounding_divide_by_pot(6, 2), 2);    // 1.5
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);  // -1.5
  EXPECT_EQ(rounding_divide_by_pot(5, 2), 1);    // 1.25
  EXPECT_EQ(rounding_divide_by_pot(-5, 2), -1);  // -1.25
  EXPECT_EQ(rounding_divide_by_pot(7, 2), 2);    // 1.75
  EXPECT_EQ(rounding_divide_by_pot(-7, 2), -2);  // -1.75
  EXPECT_EQ(rounding_divide_by_pot(12345, 0), 12345);
  EXPECT_EQ(rounding_divide_by_pot(INT32_MAX, 31), 1);
  EXPECT_EQ(rounding_divide_by_pot(INT32_MIN, 31), -1);
  EXPECT_EQ(rounding_divide_by_pot(1 << 29, 31), 0);  // 0.25
  EXPECT_EQ(rounding_divide_by_pot(1 << 30, 31), 1);  // 0.5 -> 1
  EXPECT_EQ(rounding_divide_by_pot(-(1 << 30), 31), -1);
  // Against the definition on random values.
  Rng rng(5);
  for (int i = 0; i < 100000; ++i) {
    const auto x = static_cast<int32_t>(rng.next());
    const int e = rng.below(32);
    const double q = std::ldexp(static_cast<double>(x), -e);
    const double want = q >= 0 ? std::floor(q + 0.5) : std::ceil(q - 0.5);
    ASSERT_EQ(rounding_divide_by_pot(x, e), static_cast<int32_t>(want)) << x << " " << e;
  }
}

TEST(MultiplyByQuantizedMultiplier, HandComputedValues) {
  const QuantizedMultiplier tenth = quantize_multiplier(0.1);
  EXPECT_EQ(multiply_by_quantized_multiplier(1000, tenth.m0, tenth.shift), 100);
  EXPECT_EQ(multiply_by_quantized_multiplier(-1000, tenth.m0, tenth.shift), -100);
  EXPECT_EQ(multiply_by_quantized_multiplier(15, tenth.m0, tenth.shift), 2);    // 1.5 -> 2
  EXPECT_EQ(multiply_by_quantized_multiplier(-15, tenth.m0, tenth.shift), -2);  // away from 0
  const QuantizedMultiplier three = quantize_multiplier(3.0);
  EXPECT_EQ(multiply_by_quantized_multiplier(7, three.m0, three.shift), 21);
  EXPECT_EQ(multiply_by_quantized_multiplier(-7, three.m0, three.shift), -21);
  // The left shift saturates instead of overflowing.
  EXPECT_EQ(multiply_by_quantized_multiplier(INT32_MAX, three.m0, three.shift), 1610612735);
}

TEST(MultiplyByQuantizedMultiplier, WithinOneOfExact) {
  // Two roundings (high mul, then the shift) and m0's relative error 2^-31 keep the result
  // within 1 of round(x * M) for |x * M| < 2^20.
  Rng rng(6);
  for (int i = 0; i < 100000; ++i) {
    const double m = std::exp(rng.uniform(-14.0f, 2.0f));
    const auto x = static_cast<int32_t>(rng.uniform(-1.0f, 1.0f) * std::fmin(2e9, 1e6 / m));
    const QuantizedMultiplier q = quantize_multiplier(m);
    const double exact = static_cast<double>(x) * m;
    ASSERT_LE(std::fabs(multiply_by_quantized_multiplier(x, q.m0, q.shift) - exact), 1.0)
        << "x = " << x << ", M = " << m;
  }
}

TEST(MultiplyByQuantizedMultiplier, SplitFormIsIdentical) {
  // The branch-free form the fast kernels use must give the very same integers for every
  // m0 > 0, shift in [-31, 30], including saturating left shifts and extreme x.
  Rng rng(8);
  const int32_t xs[] = {
      0,       1,          -1,    2,     -2, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1,
      1 << 30, -(1 << 30), 12345, -12345};
  const int32_t ms[] = {1 << 30, INT32_MAX, (1 << 30) + 1, 1717986918, 1};
  auto check = [](int32_t x, int32_t m0, int32_t shift) {
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    ASSERT_EQ(multiply_by_quantized_multiplier_split(x, m0, left, right),
              multiply_by_quantized_multiplier(x, m0, shift))
        << "x " << x << " m0 " << m0 << " shift " << shift;
  };
  for (int32_t x : xs)
    for (int32_t m0 : ms)
      for (int32_t shift = -31; shift <= 30; ++shift) check(x, m0, shift);
  for (int i = 0; i < 1000000; ++i) {
    const auto x = static_cast<int32_t>(rng.next() >> (rng.below(32) + 32));
    const int32_t sx = rng.below(2) ? x : -x;
    const auto m0 = static_cast<int32_t>((1u << 30) + (rng.next() >> 34));
    check(sx, m0, rng.below(62) - 31);
    if (HasFatalFailure()) return;
  }
}

TEST(FixedPointSoftmaxHelpers, ExpOnNegativeValuesIsAccurate) {
  EXPECT_EQ(fixed_exp_on_negative_values(0), INT32_MAX);
  // gemmlowp's exp: series on [-1/4, 0) and a product of exp(-2^j) constants; measured error
  // is a few units of 2^-31 per factor, so 1e-6 absolute (2^-20) bounds it with a margin.
  double worst = 0.0;
  for (int32_t raw = 0; raw >= -(31 << 26); raw -= 9973) {
    const double got = std::ldexp(fixed_exp_on_negative_values(raw), -31);
    const double want = std::exp(std::ldexp(raw, -26));
    worst = std::fmax(worst, std::fabs(got - want));
  }
  EXPECT_LT(worst, 1e-6);
  // At multiples of 1/4 the series runs at its interval's end, -1/4, where the 4th-order
  // Taylor remainder around -1/8 is largest: (1/8)^5 / 5! = 2.5e-7.
  EXPECT_NEAR(std::ldexp(fixed_exp_on_negative_values(-(1 << 26)), -31), std::exp(-1.0), 3e-7);
  EXPECT_NEAR(std::ldexp(fixed_exp_on_negative_values(-(35 << 24)), -31), std::exp(-8.75), 3e-7);
}

TEST(FixedPointSoftmaxHelpers, OneOverOnePlusXIsAccurate) {
  double worst = 0.0;
  for (int64_t raw = 0; raw < (int64_t{1} << 31); raw += 104729) {
    const double x = std::ldexp(static_cast<double>(raw), -31);
    const double got = std::ldexp(fixed_one_over_one_plus_x(static_cast<int32_t>(raw)), -31);
    worst = std::fmax(worst, std::fabs(got - 1.0 / (1.0 + x)));
  }
  EXPECT_LT(worst, 1e-8);  // three Newton steps from a 1/17 start: error ~(1/17)^8 ~ 1e-10
}

}  // namespace
}  // namespace tkws
