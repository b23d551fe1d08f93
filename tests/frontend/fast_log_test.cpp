// log_approx (fast_log.h) against the float64 std::log, in ulps of the exact result:
// err = |log_approx(x) - ln x| / 2^(floor(log2 |ln x|) - 23).
// Bound 2 ulp. Measured once over every positive finite float (2139095039 values, subnormals
// included; a separate 2-minute run, too slow for the suite): max 1.968 ulp at x = 1.00386.
// The suite sweeps every float in [0.5, 2) (where e ln2 and ln m cancel, and the worst case
// lies), every 61st float over the whole positive range, and the front end's range
// [1e-6, 1e4] every 7th float; the maxima are printed.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

#include "tinykws/frontend/fast_log.h"

namespace tkws {
namespace {

double ulp_error(float x) {
  const double ref = std::log(static_cast<double>(x));
  const float r = log_approx(x);
  if (ref == 0.0) return r == 0.0f ? 0.0 : INFINITY;
  const double e = std::fabs(static_cast<double>(r) - ref) / std::ldexp(1.0, std::ilogb(ref) - 23);
  return std::isnan(e) ? INFINITY : e;
}

// Max ulp error over the floats with bit patterns lo, lo + step, ... < hi.
double sweep(uint32_t lo, uint32_t hi, uint32_t step, float* worst_x) {
  double worst = 0.0;
  for (uint64_t b = lo; b < hi; b += step) {
    const float x = std::bit_cast<float>(static_cast<uint32_t>(b));
    const double e = ulp_error(x);
    if (e > worst) worst = e, *worst_x = x;
  }
  return worst;
}

uint32_t bits(float x) {
  return std::bit_cast<uint32_t>(x);
}

TEST(FastLog, WithinTwoUlpOfCorrectlyRounded) {
  struct Range {
    const char* name;
    uint32_t lo, hi, step;
  };
  const Range ranges[] = {
      {"[0.5, 2) every float", bits(0.5f), bits(2.0f), 1},
      {"(0, inf) every 61st", 1u, 0x7f800000u, 61},
      {"[1e-6, 1e4] every 7th", bits(1e-6f), bits(1e4f) + 1, 7},
  };
  for (const Range& r : ranges) {
    float wx = 0.0f;
    const double e = sweep(r.lo, r.hi, r.step, &wx);
    std::printf("[ log      ] %-22s: max %.3f ulp (at x = %.9g)\n", r.name, e, wx);
    EXPECT_LE(e, 2.0) << r.name << " at x = " << wx;
  }
}

TEST(FastLog, SpecialValuesAsStdLog) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(log_approx(1.0f), 0.0f);
  EXPECT_EQ(log_approx(0.0f), -kInf);
  EXPECT_EQ(log_approx(-0.0f), -kInf);
  EXPECT_EQ(log_approx(kInf), kInf);
  EXPECT_TRUE(std::isnan(log_approx(-1.0f)));
  EXPECT_TRUE(std::isnan(log_approx(-kInf)));
  EXPECT_TRUE(std::isnan(log_approx(std::numeric_limits<float>::quiet_NaN())));
  // Smallest subnormal and largest finite float.
  const float tiny = std::numeric_limits<float>::denorm_min();
  EXPECT_NEAR(log_approx(tiny), std::log(static_cast<double>(tiny)), 1e-5);
  EXPECT_NEAR(log_approx(std::numeric_limits<float>::max()), 88.72283905f, 1e-5);
  EXPECT_NEAR(log_approx(1e-6f), std::log(1e-6), 2e-6);
}

// The array form (vectorised by the compiler) gives the same bits as the scalar calls.
TEST(FastLog, ArrayMatchesScalar) {
  std::vector<float> x;
  for (uint32_t b = 0; b < 0x7f800000u; b += 999983u) x.push_back(std::bit_cast<float>(b));
  for (float v : {0.0f, 1.0f, 1e-6f, 1e-30f, 3.0e-39f, -2.0f}) x.push_back(v);
  const float offset = 1e-6f;
  std::vector<float> y = x;
  log_offset_in_place(y.data(), static_cast<int>(y.size()), offset);
  for (size_t i = 0; i < x.size(); ++i) {
    const float s = log_approx(x[i] + offset);
    EXPECT_TRUE(bits(y[i]) == bits(s) || (std::isnan(y[i]) && std::isnan(s))) << x[i];
  }
}

}  // namespace
}  // namespace tkws
