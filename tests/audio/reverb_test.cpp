// Synthetic room reverberation (audio/reverb.h): the impulse response's shape and the FFT
// convolution against a direct one.
#include "tinykws/audio/reverb.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tinykws/audio/level.h"

namespace tkws {
namespace {

double energy(const std::vector<float>& h, size_t from, size_t to) {
  double e = 0.0;
  for (size_t i = from; i < to; ++i) e += static_cast<double>(h[i]) * h[i];
  return e;
}

TEST(Reverb, ImpulseResponseHasTheRequestedDecayAndRatio) {
  const std::vector<float> h = make_rir(0.5, 6.0, 16000, 3, 16000);
  ASSERT_EQ(h.size(), 8000u);                                  // cut where the decay reaches -60 dB
  EXPECT_EQ(h[0], 1.0f);                                       // the direct path
  for (size_t i = 1; i < 40; ++i) EXPECT_EQ(h[i], 0.0f) << i;  // 2.5 ms before the tail
  // Direct-to-reverberant ratio 6 dB: the tail holds 10^-0.6 of the direct path's energy.
  EXPECT_NEAR(energy(h, 1, h.size()), std::pow(10.0, -0.6), 1e-6);
  // Exponential decay, 60 dB over the response: two 800-sample blocks whose centres are 3,960
  // samples apart differ by 60 x 3960 / 8000 dB in energy.
  const double first = energy(h, 40, 840), mid = energy(h, 4000, 4800);
  EXPECT_NEAR(10.0 * std::log10(first / mid), 60.0 * (4400 - 440) / 8000.0, 3.0);
  EXPECT_EQ(h, make_rir(0.5, 6.0, 16000, 3, 16000));  // deterministic
  EXPECT_NE(h, make_rir(0.5, 6.0, 16000, 4, 16000));
  EXPECT_EQ(make_rir(1.5, 6.0, 16000, 3, 16000).size(), 16000u);  // at most max_samples
}

TEST(Reverb, ConvolutionMatchesDirectSumAndKeepsTheLevel) {
  const int n = 4000;
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 0.2f);
  std::vector<float> clip(n);
  for (float& v : clip) v = g(rng);
  const std::vector<float> h = make_rir(0.1, 3.0, 16000, 9, n);
  std::vector<double> direct(n, 0.0);
  for (int i = 0; i < n; ++i)
    for (size_t k = 0; k < h.size() && k <= static_cast<size_t>(i); ++k)
      direct[i] += static_cast<double>(clip[i - k]) * h[k];
  const double before = mean_square(clip.data(), n);
  double d_ms = 0.0;
  for (double v : direct) d_ms += v * v;
  const double gain = std::sqrt(before / (d_ms / n));
  std::vector<float> wet = clip;
  reverberate(wet, h);
  for (int i = 0; i < n; ++i) ASSERT_NEAR(wet[i], direct[i] * gain, 1e-4) << i;
  EXPECT_NEAR(mean_square(wet.data(), n), before, 1e-6 * before);

  std::vector<float> silent(n, 0.0f);  // nothing to reverberate
  reverberate(silent, h);
  for (float v : silent) EXPECT_EQ(v, 0.0f);
}

}  // namespace
}  // namespace tkws
