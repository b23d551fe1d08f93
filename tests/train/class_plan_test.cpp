// Keyword-model classes: the class plan from a config and the data's words, the per-epoch
// composition of `_unknown_` and `_silence_` clips (sizes, determinism), and the selection score.
#include "tinykws/train/class_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tinykws/audio/background.h"
#include "tinykws/common/error.h"
#include "tinykws/eval/kws_metrics.h"
#include "tinykws/train/epoch_set.h"

namespace tkws {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Dataset words_dataset(std::vector<std::string> words, bool background) {
  Dataset ds;
  ds.root = "DATA";
  ds.labels = std::move(words);
  if (background) ds.background = {"DATA/_background_noise_/noise.wav"};
  return ds;
}

TEST(ClassPlan, KeywordsUnknownSilenceAndHeldOutWords) {
  TrainConfig t;
  t.labels = {"up", "down"};
  t.unknown_percentage = 50;
  t.silence_percentage = 10;
  t.held_out_words = {"left"};
  const Dataset ds = words_dataset({"down", "go", "left", "stop", "up"}, true);
  const ClassPlan p = plan_classes(t, ds);
  EXPECT_THAT(p.labels, ElementsAre("up", "down", "_unknown_", "_silence_"));
  EXPECT_THAT(p.keyword_flags, ElementsAre(1, 1, 0, 0));
  EXPECT_EQ(p.unknown, 2);
  EXPECT_EQ(p.silence, 3);
  EXPECT_THAT(p.unknown_words, ElementsAre("go", "stop"));  // every other word but held-out
  // Per data word (down, go, left, stop, up): training class and validation group.
  EXPECT_THAT(p.train_class, ElementsAre(1, 2, -1, 2, 0));
  EXPECT_THAT(p.val_class, ElementsAre(1, 2, 2, 2, 0));
  EXPECT_THAT(p.val_group, ElementsAre(0, 1, 2, 1, 0));
}

TEST(ClassPlan, KeywordOnlyModelsStayAsBefore) {
  TrainConfig t;  // no labels: every word is a keyword, no extra classes
  const ClassPlan p = plan_classes(t, words_dataset({"down", "up"}, false));
  EXPECT_THAT(p.labels, ElementsAre("down", "up"));
  EXPECT_TRUE(p.keyword_flags.empty());
  EXPECT_EQ(p.unknown, -1);
  EXPECT_EQ(p.silence, -1);
  // With listed keywords, other word folders are simply not used.
  t.labels = {"down", "up"};
  const ClassPlan q = plan_classes(t, words_dataset({"down", "go", "up"}, false));
  EXPECT_THAT(q.train_class, ElementsAre(0, -1, 1));
  EXPECT_THAT(q.val_group, ElementsAre(0, -1, 0));
}

TEST(ClassPlan, WordsWithoutFoldersAndMissingBackgroundAreErrors) {
  const Dataset ds = words_dataset({"down", "go", "up"}, false);
  TrainConfig t;
  t.labels = {"up", "left"};
  EXPECT_THAT([&] { plan_classes(t, ds); },
              ::testing::ThrowsMessage<InputError>(
                  HasSubstr("keyword 'left' has no folder in DATA (words present: down, go, up)")));
  t.labels = {"up", "down"};
  t.unknown_percentage = 10;
  t.unknown_words = {"yes"};
  EXPECT_THAT([&] { plan_classes(t, ds); },
              ::testing::ThrowsMessage<InputError>(HasSubstr("unknown word 'yes' has no folder")));
  t.unknown_words = {};
  t.silence_percentage = 10;
  EXPECT_THAT([&] { plan_classes(t, ds); },
              ::testing::ThrowsMessage<InputError>(HasSubstr("background recordings")));
  t.silence_percentage = 0;
  t.unknown_percentage = 0;
  t.augment.background_frequency = 0.5f;
  EXPECT_THAT([&] { plan_classes(t, ds); },
              ::testing::ThrowsMessage<InputError>(HasSubstr("background recordings")));
}

// Clips whose every sample is `v`, so a slot's source is visible in its first sample.
std::vector<std::vector<float>> constant_clips(int n, float base, int samples) {
  std::vector<std::vector<float>> out;
  for (int i = 0; i < n; ++i) out.emplace_back(samples, base + 0.001f * i);
  return out;
}

TEST(EpochSet, SizesLabelsAndDeterministicRedraws) {
  constexpr int kSamples = 400;
  TrainConfig t;
  t.seed = 7;
  t.unknown_percentage = 50;
  t.silence_percentage = 20;
  t.unknown_reversed = 0.2f;
  t.unknown_fragments = 0.2f;
  t.unknown_babble = 0.2f;
  const auto words = constant_clips(10, 0.5f, kSamples);
  const std::vector<int64_t> word_class = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  const auto pool = constant_clips(6, 0.1f, kSamples);
  // Background: a file would need I/O; an empty BackgroundNoise means no silence slots.
  BackgroundNoise none;
  EpochSet no_bg(t, kSamples, words, word_class, pool, 2, 3, &none);
  EXPECT_EQ(no_bg.num_silence(), 0);
  EXPECT_EQ(no_bg.num_unknown(), 5);  // ceil(10 * 50 %)
  EXPECT_EQ(no_bg.size(), 15);
  EXPECT_THAT(std::vector<int64_t>(no_bg.labels().begin() + 10, no_bg.labels().end()),
              ElementsAre(2, 2, 2, 2, 2));

  std::vector<float> a(kSamples), b(kSamples);
  for (int i = 0; i < 10; ++i) {  // keyword slots: the clip itself, every epoch
    no_bg.clip(3, i, a.data());
    EXPECT_EQ(a, words[i]);
  }
  int changed = 0;
  for (int i = 10; i < 15; ++i) {
    no_bg.clip(1, i, a.data());
    no_bg.clip(1, i, b.data());
    EXPECT_EQ(a, b) << "same (seed, epoch, slot): same clip";
    no_bg.clip(2, i, b.data());
    changed += a != b;
  }
  EXPECT_GT(changed, 0) << "unknown slots are redrawn in another epoch";
}

TEST(KwsSelectionScore, MeanOfGroupRates) {
  const std::vector<uint8_t> flags = {1, 1, 0, 0};  // up, down, _unknown_, _silence_
  // 4 keyword clips (3 right), 2 unknown clips (1 given a keyword), 2 background (0 FA).
  const std::vector<int> pred = {0, 1, 0, 2, 1, 2, 3, 2};
  const std::vector<int64_t> truth = {0, 1, 0, 0, 2, 2, 3, 3};
  const std::vector<uint8_t> groups = {0, 0, 0, 0, 1, 1, 3, 3};
  EXPECT_DOUBLE_EQ(kws_selection_score(pred, truth, groups, flags), (0.75 + 0.5 + 1.0) / 3);
  // Keyword clips only: plain accuracy.
  EXPECT_DOUBLE_EQ(kws_selection_score({0, 1, 1}, {0, 1, 0}, {0, 0, 0}, {}), 2.0 / 3);
}

}  // namespace
}  // namespace tkws
