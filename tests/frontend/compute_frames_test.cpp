// Frontend::compute_frames (the streaming detector's per-frame front end): n frames of a longer
// signal equal the matching rows of compute() on a clip, on the batched FFT path (even
// fft_length) and on kissfft's (odd), for every chunk size the detector uses.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tinykws/frontend/frontend.h"

namespace tkws {
namespace {

void expect_rows_match(const FrontendConfig& cfg) {
  Frontend fe(cfg);
  ASSERT_TRUE(fe.ok());
  const int F = fe.num_frames(), nf = fe.num_features(), S = cfg.frame_step;
  std::mt19937 rng(4);
  std::normal_distribution<float> g(0.0f, 0.1f);
  std::vector<float> clip(static_cast<size_t>(cfg.clip_samples));
  for (float& v : clip) v = g(rng);
  std::vector<float> want(static_cast<size_t>(F) * nf);
  fe.compute(clip.data(), want.data());
  for (int chunk : {1, 3, 5, 8, 11}) {
    std::vector<float> got(static_cast<size_t>(F) * nf, -1.0f);
    for (int t = 0; t < F; t += chunk) {
      const int n = std::min(chunk, F - t);
      fe.compute_frames(clip.data() + static_cast<size_t>(t) * S, n,
                        got.data() + static_cast<size_t>(t) * nf);
    }
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-5f * (1.0f + std::abs(want[i])))
          << "chunk " << chunk << ", frame " << i / nf;
  }
  std::vector<float> untouched(4, 7.0f);
  fe.compute_frames(clip.data(), 0, untouched.data());
  EXPECT_EQ(untouched[0], 7.0f);
}

TEST(ComputeFrames, MatchesComputeRowsBatched) {
  FrontendConfig cfg;  // 640 / 320, fft 1024: the batched FFT
  expect_rows_match(cfg);
  cfg.kind = FeatureKind::kLogMel;
  cfg.fft_length = 640;
  expect_rows_match(cfg);
}

TEST(ComputeFrames, MatchesComputeRowsKissfft) {
  FrontendConfig cfg;
  cfg.frame_length = 401, cfg.fft_length = 405;  // odd: the complex kissfft path
  expect_rows_match(cfg);
}

}  // namespace
}  // namespace tkws
