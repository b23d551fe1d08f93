// Signal levels (audio/level.h): the audible extent rule and the SNR gain that make-stream and
// training's background augmentation share.
#include "tinykws/audio/level.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tkws {
namespace {

TEST(Level, AudibleExtentIsTheFramesWithin30dBOfTheLoudest) {
  std::vector<float> clip(16000, 0.0f);
  for (int i = 4000; i < 8000; ++i) clip[i] = 0.5f * std::sin(0.1f * i);    // 250-500 ms
  for (int i = 8000; i < 9600; ++i) clip[i] = 0.02f * std::sin(0.1f * i);   // -28 dB: counts
  for (int i = 9600; i < 12000; ++i) clip[i] = 0.01f * std::sin(0.1f * i);  // -34 dB: does not
  size_t b = 0, e = 0;
  audible_extent(clip, 16000, &b, &e);
  EXPECT_EQ(b, 4000u);
  EXPECT_EQ(e, 9600u);
  // Speech power is taken over that extent only.
  double p = 0.0;
  for (size_t i = b; i < e; ++i) p += static_cast<double>(clip[i]) * clip[i];
  EXPECT_NEAR(speech_power(clip.data(), clip.size(), 16000), p / (e - b), 1e-12);
}

TEST(Level, SilentClipIsAudibleEverywhere) {
  std::vector<float> zeros(1600, 0.0f);
  size_t b = 1, e = 0;
  audible_extent(zeros, 16000, &b, &e);
  EXPECT_EQ(b, 0u);
  EXPECT_EQ(e, zeros.size());
  EXPECT_EQ(speech_power(zeros.data(), zeros.size(), 16000), 0.0);
}

TEST(Level, SnrGainGivesTheRequestedRatio) {
  const double speech = 0.01, noise = 0.04;
  for (double snr : {-5.0, 0.0, 10.0, 20.0}) {
    const double g = snr_gain(speech, noise, snr);
    EXPECT_NEAR(10.0 * std::log10(speech / (g * g * noise)), snr, 1e-9) << snr;
  }
  EXPECT_EQ(snr_gain(0.0, noise, 10.0), 0.0);
  EXPECT_EQ(snr_gain(speech, 0.0, 10.0), 0.0);
  EXPECT_EQ(mean_square(nullptr, 0), 0.0);
}

}  // namespace
}  // namespace tkws
