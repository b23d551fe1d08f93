// RealFftBatch (the front end's batched real FFT) against a direct float64 DFT and kissfft.
//
// Error measure, per frame: max_k |X_k - X_ref_k| / (sqrt(n) ||x||_2). sqrt(n) ||x||_2 = ||X||_2
// (Parseval) bounds every |X_k|, so this is the bin error relative to the frame's spectrum.
// Tolerance 2 u (log2 n + 2), u = 2^-24 (float32 unit roundoff): the transform is a chain of
// about log2 n passes (radix-2/3/4/5 stages, each a scaled unitary map, plus the split step),
// each adding a relative L2 error of a few u (the pass's roundings and its float32 twiddles,
// whose errors are at most u / 2); the relative errors add up, and a bin's error is at most
// the L2 error. The float32 input itself is exact. The measured errors (printed) are about
// 7x below this bound; kissfft's own error has the same bound, so against kissfft the
// tolerance is twice as large.
#include <gtest/gtest.h>
#include <kissfft/kiss_fftr.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>
#include <vector>

#include "tinykws/frontend/fft.h"

namespace tkws {
namespace {

constexpr int W = RealFftBatch::kLanes;

double tolerance(int n) {
  return 2.0 * std::ldexp(1.0, -24) * (std::log2(static_cast<double>(n)) + 2.0);
}

// n = 2^a 3^b 5^c?
bool smooth235(int n) {
  for (int p : {2, 3, 5})
    while (n % p == 0) n /= p;
  return n == 1;
}

// kLanes frames of N(0, 1) noise, [n][kLanes]; lane 3 is a pure tone, lane 5 an impulse (so
// not every lane is noise: exact zeros and a dominant bin are covered too).
std::vector<float> frames(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n) * W);
  for (int t = 0; t < n; ++t) {
    for (int l = 0; l < W; ++l) x[t * W + l] = d(rng);
    x[t * W + 3] = static_cast<float>(std::cos(2.0 * std::numbers::pi * 7.0 * t / n + 0.3));
    x[t * W + 5] = t == 1 ? 1.0f : 0.0f;
  }
  return x;
}

struct Spectrum {
  std::vector<float> re, im;  // [n/2 + 1][kLanes]
};

Spectrum fast_fft(int n, std::vector<float> x, bool generic_only) {
  RealFftBatch plan(n, generic_only);
  EXPECT_TRUE(plan.ok()) << n;
  Spectrum s{std::vector<float>((n / 2 + 1) * W), std::vector<float>((n / 2 + 1) * W)};
  plan.forward(x.data(), s.re.data(), s.im.data());
  return s;
}

// sqrt(n) ||x_l||_2 for lane l.
double spectrum_norm(const std::vector<float>& x, int n, int l) {
  double e = 0.0;
  for (int t = 0; t < n; ++t) e += static_cast<double>(x[t * W + l]) * x[t * W + l];
  return std::sqrt(n * e);
}

// Relative error (see the top) of `s` against the float64 DFT, worst lane.
double error_vs_dft(int n, const std::vector<float>& x, const Spectrum& s) {
  std::vector<double> c(n), sn(n);  // e^{-2 pi i j / n}
  for (int j = 0; j < n; ++j) {
    c[j] = std::cos(2.0 * std::numbers::pi * j / n);
    sn[j] = -std::sin(2.0 * std::numbers::pi * j / n);
  }
  double worst = 0.0;
  for (int l = 0; l < W; ++l) {
    const double norm = spectrum_norm(x, n, l);
    for (int k = 0; k <= n / 2; ++k) {
      double r = 0.0, i = 0.0;
      for (int t = 0; t < n; ++t) {
        const int j = static_cast<int>((static_cast<long>(k) * t) % n);
        r += x[t * W + l] * c[j];
        i += x[t * W + l] * sn[j];
      }
      const double e = std::hypot(s.re[k * W + l] - r, s.im[k * W + l] - i) / norm;
      worst = std::isnan(e) ? INFINITY : std::max(worst, e);
    }
  }
  return worst;
}

// Relative error of `s` against kiss_fftr, worst lane.
double error_vs_kiss(int n, const std::vector<float>& x, const Spectrum& s) {
  kiss_fftr_cfg cfg = kiss_fftr_alloc(n, 0, nullptr, nullptr);
  EXPECT_NE(cfg, nullptr);
  if (!cfg) return INFINITY;
  std::vector<float> frame(n);
  std::vector<kiss_fft_cpx> out(n / 2 + 1);
  double worst = 0.0;
  for (int l = 0; l < W; ++l) {
    for (int t = 0; t < n; ++t) frame[t] = x[t * W + l];
    kiss_fftr(cfg, frame.data(), out.data());
    const double norm = spectrum_norm(x, n, l);
    for (int k = 0; k <= n / 2; ++k) {
      const double e = std::hypot(static_cast<double>(s.re[k * W + l]) - out[k].r,
                                  static_cast<double>(s.im[k * W + l]) - out[k].i) /
                       norm;
      worst = std::isnan(e) ? INFINITY : std::max(worst, e);
    }
  }
  kiss_fftr_free(cfg);
  return worst;
}

TEST(RealFftBatch, SupportsEvenLengthsWhoseHalfFactorsInto235) {
  for (int n : {2, 4, 6, 8, 10, 12, 16, 30, 400, 480, 512, 640, 1000, 1024, 65536})
    EXPECT_TRUE(RealFftBatch::supported(n)) << n;
  // Odd, a factor 7 / 11 / 107, or out of range: the front end keeps kissfft for these.
  for (int n : {-2, 0, 1, 3, 405, 401, 14, 22, 642, 65538, 131072}) {
    EXPECT_FALSE(RealFftBatch::supported(n)) << n;
    EXPECT_FALSE(RealFftBatch(n).ok()) << n;
  }
  // Every even 2^a 3^b 5^c up to 65536 (the front end's fft_length range) is supported.
  for (int n = 2; n <= 65536; n += 2) {
    if (smooth235(n)) {
      ASSERT_TRUE(RealFftBatch::supported(n)) << n;
    }
  }
}

// Every supported length up to 2048 (both kernel sets) against the float64 DFT and kissfft.
TEST(RealFftBatch, MatchesFloat64DftAndKissfft) {
  double worst_dft = 0.0, worst_kiss = 0.0, worst_ratio = 0.0;
  int count = 0;
  for (int n = 2; n <= 2048; n += 2) {
    if (!RealFftBatch::supported(n)) continue;
    const std::vector<float> x = frames(n, static_cast<unsigned>(n));
    for (bool generic : {false, true}) {
      const Spectrum s = fast_fft(n, x, generic);
      const double e_dft = error_vs_dft(n, x, s);
      const double e_kiss = error_vs_kiss(n, x, s);
      EXPECT_LE(e_dft, tolerance(n)) << "n " << n << (generic ? " generic" : "");
      EXPECT_LE(e_kiss, 2.0 * tolerance(n)) << "n " << n << (generic ? " generic" : "");
      worst_dft = std::max(worst_dft, e_dft);
      worst_kiss = std::max(worst_kiss, e_kiss);
      worst_ratio = std::max(worst_ratio, e_dft / tolerance(n));
    }
    ++count;
  }
  std::printf(
      "[ fft      ] %d lengths 2..2048: max rel err vs float64 DFT %.3g, vs kissfft %.3g "
      "(worst err / tolerance %.3f)\n",
      count, worst_dft, worst_kiss, worst_ratio);
}

// The front end's lengths and large ones (kissfft as the reference: a float64 DFT is O(n^2)).
TEST(RealFftBatch, LargeLengthsMatchKissfft) {
  for (int n : {4000, 4096, 8192, 15360, 65536}) {
    const std::vector<float> x = frames(n, static_cast<unsigned>(n));
    for (bool generic : {false, true}) {
      const double e = error_vs_kiss(n, x, fast_fft(n, x, generic));
      std::printf("[ fft      ] n %5d%s: max rel err vs kissfft %.3g (tolerance %.3g)\n", n,
                  generic ? " generic" : "        ", e, 2.0 * tolerance(n));
      EXPECT_LE(e, 2.0 * tolerance(n)) << n;
    }
  }
}

// The AVX2 and the generic kernels agree closely (they differ only by FMA contraction).
TEST(RealFftBatch, KernelSetsAgree) {
  const int n = 640;
  const std::vector<float> x = frames(n, 1);
  const Spectrum a = fast_fft(n, x, false), b = fast_fft(n, x, true);
  for (int l = 0; l < W; ++l) {
    const double norm = spectrum_norm(x, n, l);
    for (int k = 0; k <= n / 2; ++k) {
      EXPECT_LE(std::fabs(a.re[k * W + l] - b.re[k * W + l]) / norm, tolerance(n));
      EXPECT_LE(std::fabs(a.im[k * W + l] - b.im[k * W + l]) / norm, tolerance(n));
    }
  }
}

// Only bins [k_lo, k_hi) are written, with the same values as a full transform.
TEST(RealFftBatch, BinRangeWritesOnlyThoseBins) {
  const int n = 640, bins = n / 2 + 1;
  const std::vector<float> x = frames(n, 2);
  const Spectrum full = fast_fft(n, x, false);
  RealFftBatch plan(n);
  std::vector<float> data = x, re(bins * W, -7.0f), im(bins * W, -7.0f);
  plan.forward(data.data(), re.data(), im.data(), 1, 161);
  for (int k = 0; k < bins; ++k) {
    for (int l = 0; l < W; ++l) {
      if (k >= 1 && k < 161) {
        EXPECT_EQ(re[k * W + l], full.re[k * W + l]) << k;
        EXPECT_EQ(im[k * W + l], full.im[k * W + l]) << k;
      } else {
        EXPECT_EQ(re[k * W + l], -7.0f) << k;
        EXPECT_EQ(im[k * W + l], -7.0f) << k;
      }
    }
  }
}

// Imaginary parts of the DC and Nyquist bins are exactly 0; an impulse at t = 1 gives
// X_k = e^{-2 pi i k / n} (lane 5 of frames()).
TEST(RealFftBatch, DcNyquistAndImpulse) {
  for (int n : {2, 4, 6, 10, 640}) {
    const std::vector<float> x = frames(n, 3);
    const Spectrum s = fast_fft(n, x, false);
    for (int l = 0; l < W; ++l) {
      EXPECT_EQ(s.im[l], 0.0f) << n;
      EXPECT_EQ(s.im[(n / 2) * W + l], 0.0f) << n;
    }
    for (int k = 0; k <= n / 2; ++k) {
      EXPECT_NEAR(s.re[k * W + 5], std::cos(2.0 * std::numbers::pi * k / n), 1e-6) << n;
      EXPECT_NEAR(s.im[k * W + 5], -std::sin(2.0 * std::numbers::pi * k / n), 1e-6) << n;
    }
  }
}

}  // namespace
}  // namespace tkws
