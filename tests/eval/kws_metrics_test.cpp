// Keyword-spotting metrics: miss rate, false accepts per group and per word, per-class
// precision / recall, and the threshold curve, on hand-made probabilities.
#include "tinykws/eval/kws_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tkws {
namespace {

ScoredClip clip(std::string word, int truth, ClipGroup g, std::vector<float> p) {
  return {word + "/x.wav", word, truth, g, std::move(p)};
}

TEST(KwsMetrics, FourClassModel) {
  const std::vector<std::string> labels = {"down", "up", "_unknown_", "_silence_"};
  const std::vector<uint8_t> flags = {1, 1, 0, 0};
  const std::vector<ScoredClip> clips = {
      clip("down", 0, ClipGroup::kKeyword, {0.9f, 0.05f, 0.05f, 0.0f}),  // hit
      clip("down", 0, ClipGroup::kKeyword, {0.6f, 0.1f, 0.3f, 0.0f}),    // hit, p 0.6
      clip("up", 1, ClipGroup::kKeyword, {0.1f, 0.2f, 0.7f, 0.0f}),      // miss (unknown)
      clip("up", 1, ClipGroup::kKeyword, {0.0f, 0.95f, 0.05f, 0.0f}),    // hit
      clip("go", 2, ClipGroup::kUnknown, {0.1f, 0.1f, 0.8f, 0.0f}),      // right
      clip("go", 2, ClipGroup::kUnknown, {0.55f, 0.0f, 0.45f, 0.0f}),    // FA at p 0.55
      clip("left", 2, ClipGroup::kHeldOut, {0.0f, 0.8f, 0.2f, 0.0f}),    // FA at p 0.8
      {"background window 0", "", 3, ClipGroup::kBackground, {0.0f, 0.0f, 0.1f, 0.9f}},
  };
  const KwsMetrics m = kws_metrics(clips, labels, flags);
  EXPECT_DOUBLE_EQ(m.miss_rate, 0.25);
  EXPECT_DOUBLE_EQ(m.fa_rate, 2.0 / 4);
  EXPECT_DOUBLE_EQ(m.group_fa_rate(ClipGroup::kUnknown), 0.5);
  EXPECT_DOUBLE_EQ(m.group_fa_rate(ClipGroup::kHeldOut), 1.0);
  EXPECT_DOUBLE_EQ(m.group_fa_rate(ClipGroup::kBackground), 0.0);
  ASSERT_EQ(m.words.size(), 2u);  // go, left
  EXPECT_EQ(m.words[0].word, "go");
  EXPECT_EQ(m.words[0].fa, 1);
  EXPECT_EQ(m.words[1].group, ClipGroup::kHeldOut);
  // down: predicted 3 times (2 right) -> precision 2/3; recall 2/2.
  EXPECT_DOUBLE_EQ(m.precision[0], 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.recall[0], 1.0);
  EXPECT_DOUBLE_EQ(m.recall[1], 0.5);
  // At threshold 0.7: the down clip at 0.6 is missed too; only the held-out FA (0.8) remains.
  const auto it = std::find_if(m.curve.begin(), m.curve.end(), [](const ThresholdPoint& p) {
    return std::abs(p.threshold - 0.7) < 1e-9;
  });
  ASSERT_NE(it, m.curve.end());
  EXPECT_DOUBLE_EQ(it->miss_rate, 0.5);
  EXPECT_DOUBLE_EQ(it->fa_rate, 0.25);
  EXPECT_DOUBLE_EQ(it->fa_held_out, 1.0);
  EXPECT_DOUBLE_EQ(it->fa_words, 1.0 / 3);
  // Below 0.5 the curve takes the most probable keyword even where _unknown_ won, as the
  // streaming detector does: at 0.2 the up clip given _unknown_ (up 0.2) is a hit, and no
  // other clip fires (the go clip's keywords are at 0.1).
  auto at = [&](double t) {
    const auto p = std::find_if(m.curve.begin(), m.curve.end(), [&](const ThresholdPoint& q) {
      return std::abs(q.threshold - t) < 1e-9;
    });
    EXPECT_NE(p, m.curve.end()) << t;
    return *p;
  };
  EXPECT_DOUBLE_EQ(at(0.2).miss_rate, 0.0);
  EXPECT_DOUBLE_EQ(at(0.2).fa_rate, 2.0 / 4);
  EXPECT_DOUBLE_EQ(at(0.05).fa_words, 1.0);  // every word clip's top keyword is >= 0.05
  EXPECT_DOUBLE_EQ(at(0.05).fa_background, 0.0);
  // Above 0.5 it is the argmax decision with a threshold.
  EXPECT_DOUBLE_EQ(at(0.55).miss_rate, m.miss_rate);
  EXPECT_DOUBLE_EQ(at(0.55).fa_rate, m.fa_rate);
  EXPECT_DOUBLE_EQ(m.curve.front().threshold, 0.05);
  EXPECT_DOUBLE_EQ(m.curve.back().threshold, 0.999);
  const auto j = to_json(m);
  EXPECT_EQ(j["groups"]["held_out"]["false_accepts"], 1);
  EXPECT_EQ(j["threshold_curve"].size(), m.curve.size());
  EXPECT_THAT(to_text(m), ::testing::HasSubstr("unseen words"));
}

TEST(KwsMetrics, BinaryModelStillCountsForeignWords) {
  const std::vector<std::string> labels = {"down", "up"};
  const std::vector<ScoredClip> clips = {
      clip("up", 1, ClipGroup::kKeyword, {0.1f, 0.9f}),
      clip("go", -1, ClipGroup::kHeldOut, {0.97f, 0.03f}),  // no _unknown_: always a keyword
      clip("yes", -1, ClipGroup::kHeldOut, {0.4f, 0.6f}),
  };
  const KwsMetrics m = kws_metrics(clips, labels, {});
  EXPECT_DOUBLE_EQ(m.miss_rate, 0.0);
  EXPECT_DOUBLE_EQ(m.fa_rate, 1.0);
  const auto it = std::find_if(m.curve.begin(), m.curve.end(), [](const ThresholdPoint& p) {
    return p.threshold == 0.95 || std::abs(p.threshold - 0.95) < 1e-9;
  });
  ASSERT_NE(it, m.curve.end());
  EXPECT_DOUBLE_EQ(it->fa_rate, 0.5);  // only the 0.97 clip passes 0.95
  EXPECT_DOUBLE_EQ(it->miss_rate, 1.0);
}

}  // namespace
}  // namespace tkws
