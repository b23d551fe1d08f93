// scan_datasets: several data folders merged by label, each with its own split rule, the
// background recordings, and the errors for folders that disagree on a split.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "audio_test_util.h"
#include "tinykws/audio/background.h"
#include "tinykws/audio/dataset.h"
#include "tinykws/audio/wav.h"
#include "tinykws/common/error.h"

namespace tkws {
namespace {

using test::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

void touch(const TempDir& dir, const std::string& rel, int samples = 160) {
  write_wav_pcm16(dir.file(rel), std::vector<float>(samples, 0.01f), 16000);
}

const ClipRef* find(const Dataset& ds, const std::string& rel) {
  for (const auto& c : ds.clips)
    if (c.rel == rel) return &c;
  return nullptr;
}

// Speakers (speaker-hash rule): 7311d8a3 -> val, 2265b1f5 -> test, c1d39ce8 / 0132a06d -> train.
TEST(ScanDatasets, MergesFoldersWithTheirOwnSplitRules) {
  TempDir a, b;
  // a: list files (c1d39ce8 listed as validation although its hash says train).
  touch(a, "up/c1d39ce8_nohash_0.wav");
  touch(a, "up/0132a06d_nohash_0.wav");
  touch(a, "down/0132a06d_nohash_1.wav");
  test::write_bytes(a.file("validation_list.txt"), "up/c1d39ce8_nohash_0.wav\n");
  // b: no list files (speaker hash), other words and background recordings.
  touch(b, "go/7311d8a3_nohash_0.wav");
  touch(b, "go/2265b1f5_nohash_0.wav");
  touch(b, "left/0132a06d_nohash_3.wav");
  touch(b, "_background_noise_/pink.wav", 40000);
  touch(b, "_background_noise_/white.wav", 40000);

  const Dataset ds = scan_datasets({a.path().string(), b.path().string()});
  EXPECT_THAT(ds.labels, ElementsAre("down", "go", "left", "up"));
  EXPECT_EQ(ds.roots.size(), 2u);
  EXPECT_EQ(ds.split_rule, "lists+speaker-hash");
  ASSERT_EQ(ds.clips.size(), 6u);
  EXPECT_EQ(find(ds, "up/c1d39ce8_nohash_0.wav")->split, Split::kVal);  // a's list
  EXPECT_EQ(find(ds, "go/7311d8a3_nohash_0.wav")->split, Split::kVal);  // b's hash
  EXPECT_EQ(find(ds, "go/2265b1f5_nohash_0.wav")->split, Split::kTest);
  EXPECT_EQ(find(ds, "left/0132a06d_nohash_3.wav")->split, Split::kTrain);
  EXPECT_EQ(find(ds, "go/7311d8a3_nohash_0.wav")->path,
            (b.path() / "go/7311d8a3_nohash_0.wav").string());
  ASSERT_EQ(ds.background.size(), 2u);
  EXPECT_THAT(ds.background[0], HasSubstr("pink.wav"));
  EXPECT_EQ(std::count(ds.labels.begin(), ds.labels.end(), "_background_noise_"), 0);

  // A label filter keeps its order across folders.
  const Dataset kw = scan_datasets({a.path().string(), b.path().string()}, {"up", "go"});
  EXPECT_THAT(kw.labels, ElementsAre("up", "go"));
  EXPECT_EQ(kw.clips.size(), 4u);
}

TEST(ScanDatasets, FoldersDisagreeingOnASpeakersSplitAreAnError) {
  TempDir a, b;
  touch(a, "up/c1d39ce8_nohash_0.wav");  // listed: validation
  touch(a, "up/0132a06d_nohash_0.wav");
  test::write_bytes(a.file("validation_list.txt"), "up/c1d39ce8_nohash_0.wav\n");
  touch(b, "go/c1d39ce8_nohash_1.wav");  // speaker hash: training
  try {
    scan_datasets({a.path().string(), b.path().string()});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("disagree on the split of speaker c1d39ce8"));
    EXPECT_THAT(e.what(), HasSubstr(a.path().string()));
    EXPECT_THAT(e.what(), HasSubstr(b.path().string()));
  }
}

TEST(ScanDatasets, TheSameClipInTwoFoldersWithDifferentSplitsIsAnError) {
  TempDir a, b;
  touch(a, "up/c1d39ce8_nohash_0.wav");
  test::write_bytes(a.file("validation_list.txt"), "up/c1d39ce8_nohash_0.wav\n");
  touch(b, "up/c1d39ce8_nohash_0.wav");
  touch(b, "up/0132a06d_nohash_0.wav");
  EXPECT_THAT(
      [&] {
        scan_datasets({a.path().string(), b.path().string()});
      },
      ::testing::ThrowsMessage<InputError>(
          HasSubstr("disagree on the split of 'up/c1d39ce8_nohash_0.wav' (val vs train)")));
}

TEST(ScanDatasets, BadFolderLists) {
  TempDir a;
  touch(a, "up/c1d39ce8_nohash_0.wav");
  EXPECT_THROW(scan_datasets({}), InputError);
  EXPECT_THAT(
      [&] {
        scan_datasets({a.path().string(), a.path().string()});
      },
      ::testing::ThrowsMessage<InputError>(HasSubstr("given twice")));
  EXPECT_THAT(
      [&] {
        scan_datasets({a.path().string(), a.path().string() + "/nope"});
      },
      ::testing::ThrowsMessage<InputError>(HasSubstr("does not exist")));
}

TEST(BackgroundNoise, WindowsComeFromTheirSplitsPart) {
  TempDir d;
  // A ramp: sample value tells the position (k / 32768 for sample k, k < 10000).
  std::vector<float> ramp(10000);
  for (int k = 0; k < 10000; ++k) ramp[k] = static_cast<float>(k) / 32768.0f;
  write_wav_pcm16(d.file("_background_noise_/ramp.wav"), ramp, 16000);
  BackgroundNoise bg({d.file("_background_noise_/ramp.wav")}, 16000, 1000, d.path().string());
  ASSERT_EQ(bg.size(), 1u);
  std::vector<float> w(1000);
  for (uint64_t s = 0; s < 50; ++s) {
    bg.window(Split::kTrain, s, 1.0f, w.data());
    EXPECT_LE(std::lround(w.back() * 32768), 7999) << "training window in the last 20 %";
    bg.window(Split::kVal, s, 0.5f, w.data());
    EXPECT_GE(std::lround(w.front() * 2 * 32768), 8000) << "validation window before the last 20 %";
  }
  // The evaluation windows are the same every time.
  const auto e1 = background_eval_windows(bg), e2 = background_eval_windows(bg);
  ASSERT_EQ(e1.size(), static_cast<size_t>(kBackgroundEvalWindows));
  EXPECT_EQ(e1, e2);
}

TEST(BackgroundNoise, NoReadableAudioIsAnErrorNamingTheFolder) {
  TempDir d;
  test::write_bytes(d.file("_background_noise_/broken.wav"), "RIFF....WAVEjunk");
  EXPECT_THAT(
      [&] { BackgroundNoise({d.file("_background_noise_/broken.wav")}, 16000, 1000, "DATA"); },
      ::testing::ThrowsMessage<InputError>(HasSubstr("broken.wav")));
  EXPECT_THAT([&] { BackgroundNoise({}, 16000, 1000, "DATA"); },
              ::testing::ThrowsMessage<InputError>(HasSubstr("DATA: no background recordings")));
}

}  // namespace
}  // namespace tkws
