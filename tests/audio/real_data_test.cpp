// The shared Speech Commands up/down excerpt (docs/results.md), when present: split counts,
// the speaker-hash rule against validation_list.txt, and every clip readable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>

#include "../common/real_data.h"
#include "tinykws/audio/dataset.h"
#include "tinykws/audio/wav.h"

namespace tkws {
namespace {

namespace fs = std::filesystem;

// The up / down folder of the real data (tests/common/real_data.h), empty when there is none.
std::string real_data_dir() {
  return testing::updown_data_dir();
}

class RealData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = real_data_dir();
    if (dir_.empty()) {
      GTEST_SKIP() << "speech_commands_updown not found (set TINYKWS_DATA or place it at "
                   << TINYKWS_SOURCE_DIR << "/../shared/data/)";
    }
  }
  std::string dir_;
};

TEST_F(RealData, SplitCountsMatchSourceMd) {
  const Dataset ds = scan_dataset(dir_);
  std::cout << ds.summary();
  EXPECT_EQ(ds.layout, "folders");
  EXPECT_EQ(ds.split_rule, "lists");
  ASSERT_EQ(ds.labels, (std::vector<std::string>{"down", "up"}));
  const auto cnt = ds.counts();
  EXPECT_EQ(cnt[0], (std::array<int, 3>{781, 115, 0}));  // down
  EXPECT_EQ(cnt[1], (std::array<int, 3>{785, 108, 0}));  // up; test split withheld
  EXPECT_TRUE(ds.warnings.empty()) << ds.summary();
}

TEST_F(RealData, SpeakerHashAgreesWithValidationList) {
  std::ifstream list(fs::path(dir_) / "validation_list.txt");
  ASSERT_TRUE(list) << "no validation_list.txt in " << dir_;
  std::set<std::string> listed;
  std::string line;
  while (std::getline(list, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    listed.insert(line);
    EXPECT_EQ(speaker_hash_split(line), Split::kVal) << line;
  }
  EXPECT_EQ(listed.size(), 223u);
  // And every unlisted clip hashes to training (the testing range is withheld).
  const Dataset ds = scan_dataset(dir_);
  for (const auto& c : ds.clips) {
    EXPECT_EQ(speaker_hash_split(c.rel), listed.count(c.rel) ? Split::kVal : Split::kTrain)
        << c.rel;
  }
}

TEST_F(RealData, EveryClipReadsAs16kMonoAtMostOneSecond) {
  const Dataset ds = scan_dataset(dir_);
  int shorter = 0, quiet = 0;
  long long min_frames = 1LL << 40;
  std::string min_clip;
  for (const auto& c : ds.clips) {
    AudioInfo info;
    const auto x = read_audio(c.path, 16000, &info);  // throws, naming the file, on a bad clip
    EXPECT_EQ(info.sample_rate, 16000) << c.rel;
    EXPECT_EQ(info.channels, 1) << c.rel;
    EXPECT_LE(info.frames, 16000) << c.rel;
    EXPECT_GE(info.frames, 7510) << c.rel;  // SOURCE.md: shortest clip 0.47 s
    if (info.frames < 16000) ++shorter;
    if (info.frames < min_frames) min_frames = info.frames, min_clip = c.rel;
    float peak = 0;
    for (float v : x) peak = std::max(peak, std::abs(v));
    if (peak < 0.01f) {  // below -40 dBFS: probably no word in it
      ++quiet;
      std::cout << "nearly silent: " << c.rel << " peak " << 20 * std::log10(peak) << " dBFS\n";
    }
  }
  std::cout << ds.clips.size() << " clips; " << shorter << " shorter than 1 s (shortest "
            << min_clip << ", " << min_frames << " samples); " << quiet
            << " with peak below -40 dBFS\n";
}

}  // namespace
}  // namespace tkws
