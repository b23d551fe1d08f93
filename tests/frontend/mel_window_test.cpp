// Periodic Hann window and mel weight matrix (docs/frontend.md), including its check values.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "tinykws/frontend/frontend.h"

namespace tkws {
namespace {

double hz_to_mel(double hz) {
  return 1127.0 * std::log(1.0 + hz / 700.0);
}
double mel_to_hz(double mel) {
  return 700.0 * (std::exp(mel / 1127.0) - 1.0);
}

TEST(HannWindow, EvenLengthUsesDenominatorL) {
  const std::vector<float> w = hann_window(4);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_FLOAT_EQ(w[0], 0.0f);
  EXPECT_FLOAT_EQ(w[1], 0.5f);
  EXPECT_FLOAT_EQ(w[2], 1.0f);
  EXPECT_FLOAT_EQ(w[3], 0.5f);  // periodic: w[L-1] != 0
  const std::vector<float> c = hann_window(640);
  for (int n = 0; n < 640; ++n)
    EXPECT_NEAR(c[n], 0.5 - 0.5 * std::cos(2 * std::numbers::pi * n / 640.0), 1e-7);
}

TEST(HannWindow, OddLengthUsesDenominatorLMinus1) {
  const std::vector<float> w = hann_window(5);
  ASSERT_EQ(w.size(), 5u);
  const float expected[5] = {0.0f, 0.5f, 1.0f, 0.5f, 0.0f};
  for (int n = 0; n < 5; ++n) EXPECT_FLOAT_EQ(w[n], expected[n]) << n;
  const std::vector<float> c = hann_window(401);
  for (int n = 0; n < 401; ++n)
    EXPECT_NEAR(c[n], 0.5 - 0.5 * std::cos(2 * std::numbers::pi * n / 400.0), 1e-7);
  EXPECT_EQ(c[400], 0.0f);
}

// Course settings: 640-point FFT (321 bins, 25 Hz apart), 40 bands, 20-4000 Hz.
constexpr int kBins = 321, kBands = 40;
float at(const std::vector<float>& w, int bin, int band) {
  return w[bin * kBands + band];
}

TEST(MelMatrix, ShapeDcRowZeroNonNegative) {
  const std::vector<float> w = mel_weight_matrix(kBands, kBins, 16000, 20.0f, 4000.0f);
  ASSERT_EQ(w.size(), static_cast<size_t>(kBins * kBands));
  for (int m = 0; m < kBands; ++m) EXPECT_EQ(at(w, 0, m), 0.0f) << "DC row, band " << m;
  for (float v : w) EXPECT_GE(v, 0.0f);
  // Bins above 4000 Hz (index > 160) are outside every band.
  for (int i = 161; i < kBins; ++i)
    for (int m = 0; m < kBands; ++m) EXPECT_EQ(at(w, i, m), 0.0f);
}

TEST(MelMatrix, NoAreaNormalisation) {
  // Triangles of height 1 that overlap by half: every bin between the first and the last
  // band centre (53.7 Hz .. 3790 Hz -> bins 3 .. 151) has weights summing to exactly 1.
  // Area (Slaney) normalisation would scale narrow low bands up and wide high bands down.
  const std::vector<float> w = mel_weight_matrix(kBands, kBins, 16000, 20.0f, 4000.0f);
  for (int i = 3; i <= 151; ++i) {
    double sum = 0.0;
    for (int m = 0; m < kBands; ++m) sum += at(w, i, m);
    EXPECT_NEAR(sum, 1.0, 1e-5) << "bin " << i;
  }
  for (int m = 0; m < kBands; ++m) {
    float peak = 0.0f;
    for (int i = 0; i < kBins; ++i) peak = std::max(peak, at(w, i, m));
    EXPECT_LE(peak, 1.0f);
    EXPECT_GT(peak, 0.5f) << "band " << m;  // a bin lies within half a slope of each centre
  }
}

// Fits x = p + q * w through two bins on one slope of a triangle (x = mel of the bin centre,
// w = its weight): p is the mel where the weight is 0, p + q where it is 1.
void fit_slope(int bin_a, int bin_b, const std::vector<float>& w, int band, double* at0,
               double* at1) {
  const double xa = hz_to_mel(bin_a * 25.0), xb = hz_to_mel(bin_b * 25.0);
  const double wa = at(w, bin_a, band), wb = at(w, bin_b, band);
  const double q = (xb - xa) / (wb - wa);
  *at0 = xa - wa * q;
  *at1 = *at0 + q;
}

TEST(MelMatrix, ReferenceCheckValues) {
  // docs/frontend.md: first band edges 20.0, 53.7, 89.0 Hz; last 3589, 3790, 4000 Hz.
  // 1) The formula: linspace(mel(20), mel(4000), 42) mapped back to Hz.
  const double lo = hz_to_mel(20.0), hi = hz_to_mel(4000.0);
  const auto edge_hz = [&](int j) { return mel_to_hz(lo + (hi - lo) * j / 41.0); };
  EXPECT_NEAR(edge_hz(0), 20.0, 0.05);
  EXPECT_NEAR(edge_hz(1), 53.7, 0.05);
  EXPECT_NEAR(edge_hz(2), 89.0, 0.05);
  EXPECT_NEAR(edge_hz(39), 3589.0, 0.5);
  EXPECT_NEAR(edge_hz(40), 3790.0, 0.5);
  EXPECT_NEAR(edge_hz(41), 4000.0, 0.5);

  // 2) The implementation: recover the edges from the matrix itself.
  const std::vector<float> w = mel_weight_matrix(kBands, kBins, 16000, 20.0f, 4000.0f);
  double e0, e1, e2, e1b;
  fit_slope(1, 2, w, 0, &e0, &e1);  // 25, 50 Hz: rising slope of band 0
  EXPECT_NEAR(mel_to_hz(e0), 20.0, 0.05);
  EXPECT_NEAR(mel_to_hz(e1), 53.7, 0.05);
  // 75 Hz is the only bin on band 0's falling slope: x = e2 + w (e1 - e2).
  const double x3 = hz_to_mel(75.0), w3 = at(w, 3, 0);
  e2 = (x3 - w3 * e1) / (1.0 - w3);
  EXPECT_NEAR(mel_to_hz(e2), 89.0, 0.05);
  fit_slope(144, 148, w, 39, &e0, &e1);  // 3600, 3700 Hz: rising slope of the last band
  EXPECT_NEAR(mel_to_hz(e0), 3589.0, 0.5);
  EXPECT_NEAR(mel_to_hz(e1), 3790.0, 0.5);
  fit_slope(152, 156, w, 39, &e2, &e1b);  // 3800, 3900 Hz: its falling slope
  EXPECT_NEAR(mel_to_hz(e2), 4000.0, 0.5);
  EXPECT_NEAR(mel_to_hz(e1b), 3790.0, 0.5);

  // 3) Every weight equals the triangle on those edges (float32 vs double: 1e-5).
  for (int i = 0; i < kBins; ++i) {
    const double x = hz_to_mel(i * 25.0);
    for (int m = 0; m < kBands; ++m) {
      const double a = lo + (hi - lo) * m / 41.0, b = lo + (hi - lo) * (m + 1) / 41.0,
                   c = lo + (hi - lo) * (m + 2) / 41.0;
      const double expect =
          i == 0 ? 0.0 : std::max(0.0, std::min((x - a) / (b - a), (c - x) / (c - b)));
      EXPECT_NEAR(at(w, i, m), expect, 1e-5) << "bin " << i << " band " << m;
    }
  }
}

TEST(MelMatrix, NarrowBandsCanBeEmpty) {
  // Report 1: 100 bands over 20-1000 Hz with 15.6 Hz bins: some triangles hold no bin centre.
  const std::vector<float> w = mel_weight_matrix(100, 513, 16000, 20.0f, 1000.0f);
  int empty = 0;
  for (int m = 0; m < 100; ++m) {
    float peak = 0.0f;
    for (int i = 0; i < 513; ++i) peak = std::max(peak, w[i * 100 + m]);
    empty += peak == 0.0f;
  }
  EXPECT_GT(empty, 0);
}

}  // namespace
}  // namespace tkws
