// StreamDecider on synthetic score sequences: smoothing, thresholds held for N hops, the
// refractory time, non-keyword classes, gated hops, and the ms -> hops conversion.
#include "tinykws/runtime/stream_decider.h"

#include <gtest/gtest.h>

#include <vector>

#include "../common/alloc_counter.h"
#include "../format/test_models.h"

namespace tkws {
namespace {

DeciderConfig config(int labels, float threshold, int smoothing, int min_hops, int refractory) {
  DeciderConfig c;
  c.num_labels = labels;
  c.keyword.assign(static_cast<size_t>(labels), 1);
  c.thresholds.assign(static_cast<size_t>(labels), threshold);
  c.smoothing_hops = smoothing, c.min_hops = min_hops, c.refractory_hops = refractory;
  return c;
}

// Pushes rows of scores; returns the fired label per hop (-1 = none).
std::vector<int> run(StreamDecider& d, const std::vector<std::vector<float>>& rows) {
  std::vector<int> out;
  for (const auto& r : rows) out.push_back(d.push(r.data(), nullptr));
  return out;
}

TEST(StreamDecider, SmoothsOverTheLastHops) {
  StreamDecider d;
  ASSERT_TRUE(d.init(config(2, 1.0f, 3, 1, 0)).ok());
  const float rows[][2] = {{0.9f, 0.1f}, {0.3f, 0.7f}, {0.6f, 0.4f}, {0.0f, 1.0f}};
  const float want0[] = {0.9f, 0.6f, 0.6f, 0.3f};  // averages over 1, 2, 3, then the last 3
  for (int i = 0; i < 4; ++i) {
    d.push(rows[i], nullptr);
    EXPECT_NEAR(d.smoothed()[0], want0[i], 1e-6f) << i;
    EXPECT_NEAR(d.smoothed()[0] + d.smoothed()[1], 1.0f, 1e-6f) << i;
  }
}

TEST(StreamDecider, FiresAfterMinHopsAboveThreshold) {
  StreamDecider d;
  ASSERT_TRUE(d.init(config(2, 0.5f, 1, 3, 0)).ok());
  // Above for 2 hops, a dip, then 3 hops: fires on the third of those.
  EXPECT_EQ(
      run(d, {{0.9f, 0.1f}, {0.9f, 0.1f}, {0.4f, 0.6f}, {0.8f, 0.2f}, {0.8f, 0.2f}, {0.8f, 0.2f}}),
      (std::vector<int>{-1, -1, -1, -1, -1, 0}));
  // Exactly the threshold counts as passing it; the score reported is the smoothed one.
  d.reset();
  float score = 0;
  d.push(std::vector<float>{0.5f, 0.5f}.data(), &score);
  d.push(std::vector<float>{0.5f, 0.5f}.data(), &score);
  EXPECT_EQ(d.push(std::vector<float>{0.5f, 0.5f}.data(), &score), 0);  // tie: the first label
  EXPECT_FLOAT_EQ(score, 0.5f);
}

TEST(StreamDecider, RefractoryTimeSuppressesRepeats) {
  StreamDecider d;
  ASSERT_TRUE(d.init(config(2, 0.5f, 1, 3, 4)).ok());
  std::vector<std::vector<float>> rows(14, {0.9f, 0.1f});
  // Fires at hop 2; hops 3-6 are refractory (since_fire 1..4); the counts restart at the
  // detection and reach 3 again at hop 5, so the next detection is the first free hop, 7.
  std::vector<int> want(14, -1);
  want[2] = want[7] = want[12] = 0;
  EXPECT_EQ(run(d, rows), want);
  // Another keyword during the refractory time does not fire either.
  d.reset();
  std::vector<std::vector<float>> mixed = {{0.9f, 0.1f}, {0.9f, 0.1f}, {0.9f, 0.1f}, {0.1f, 0.9f},
                                           {0.1f, 0.9f}, {0.1f, 0.9f}, {0.1f, 0.9f}, {0.1f, 0.9f}};
  EXPECT_EQ(run(d, mixed), (std::vector<int>{-1, -1, 0, -1, -1, -1, -1, 1}));
}

TEST(StreamDecider, NonKeywordsNeverFireAndTheBestKeywordWins) {
  DeciderConfig c = config(3, 0.3f, 1, 1, 0);
  c.keyword = {1, 1, 0};  // label 2 is e.g. "_unknown_"
  StreamDecider d;
  ASSERT_TRUE(d.init(c).ok());
  EXPECT_EQ(run(d, {{0.0f, 0.0f, 1.0f}, {0.05f, 0.05f, 0.9f}}), (std::vector<int>{-1, -1}));
  EXPECT_EQ(run(d, {{0.35f, 0.45f, 0.2f}}), (std::vector<int>{1}));
  // Per-label thresholds: label 1 needs 0.9, so label 0 (above its 0.3) fires instead.
  c.thresholds = {0.3f, 0.9f, 0.0f};
  ASSERT_TRUE(d.init(c).ok());
  EXPECT_EQ(run(d, {{0.35f, 0.6f, 0.05f}}), (std::vector<int>{0}));
}

TEST(StreamDecider, GatedHopsRestartSmoothingButNotRefractory) {
  StreamDecider d;
  ASSERT_TRUE(d.init(config(2, 0.5f, 2, 2, 3)).ok());
  EXPECT_EQ(run(d, {{0.9f, 0.1f}}), (std::vector<int>{-1}));
  d.push_gated();  // the count of hops above the threshold restarts
  EXPECT_FLOAT_EQ(d.smoothed()[0], 0.0f);
  EXPECT_EQ(run(d, {{0.9f, 0.1f}, {0.9f, 0.1f}}), (std::vector<int>{-1, 0}));
  // Three gated hops use up the refractory time.
  d.push_gated(), d.push_gated(), d.push_gated();
  EXPECT_EQ(run(d, {{0.9f, 0.1f}, {0.9f, 0.1f}}), (std::vector<int>{-1, 0}));
}

TEST(StreamDecider, SettingsInMillisecondsBecomeHops) {
  Model m = testing_models::tiny_model();  // labels down, up, _silence_
  m.keyword_flags = {1, 1, 0};
  DetectorSettings s;
  s.smoothing_ms = 300, s.refractory_ms = 1000, s.min_hops = 2, s.threshold = 0.7f;
  const DeciderConfig c = DeciderConfig::from_settings(m, s, 100.0);
  EXPECT_EQ(c.smoothing_hops, 3);
  EXPECT_EQ(c.refractory_hops, 10);
  EXPECT_EQ(c.min_hops, 2);
  EXPECT_EQ(c.keyword, (std::vector<uint8_t>{1, 1, 0}));
  EXPECT_EQ(c.thresholds, (std::vector<float>{0.7f, 0.7f, 0.7f}));
  s.thresholds = {0.6f, 0.9f, 1.0f};
  s.smoothing_ms = 0, s.refractory_ms = 250;
  const DeciderConfig d = DeciderConfig::from_settings(m, s, 120.0);
  EXPECT_EQ(d.smoothing_hops, 1);
  EXPECT_EQ(d.refractory_hops, 3);  // ceil(250 / 120)
  EXPECT_EQ(d.thresholds, s.thresholds);
}

TEST(StreamDecider, RejectsBadConfigsAndPushAllocatesNothing) {
  StreamDecider d;
  EXPECT_FALSE(d.init(config(0, 0.5f, 1, 1, 0)).ok());
  EXPECT_FALSE(d.init(config(2, 0.5f, 0, 1, 0)).ok());
  DeciderConfig c = config(2, 0.5f, 4, 2, 3);
  c.thresholds.pop_back();
  EXPECT_FALSE(d.init(c).ok());
  ASSERT_TRUE(d.init(config(2, 0.5f, 4, 2, 3)).ok());
  const float a[] = {0.9f, 0.1f}, b[] = {0.2f, 0.8f};
  AllocCounter counter;
  for (int i = 0; i < 1000; ++i) {
    d.push(i % 7 < 4 ? a : b, nullptr);
    if (i % 50 == 0) d.push_gated();
  }
  d.reset();
  EXPECT_EQ(counter.count(), 0);
}

}  // namespace
}  // namespace tkws
