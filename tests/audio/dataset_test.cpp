// scan_dataset on generated folders (both layouts, with and without list files), the speaker
// hash against Python's hashlib, label selection and the error messages.
#include "tinykws/audio/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "audio_test_util.h"
#include "tinykws/audio/wav.h"
#include "tinykws/common/error.h"

namespace tkws {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

// Expected values from the dataset README's which_set(), computed with /usr/bin/python3:
//   hash_name = re.sub(r'_nohash_.*$', '', os.path.basename(f))
//   (int(hashlib.sha1(hash_name.encode()).hexdigest(), 16) % 2**27) * (100.0 / (2**27 - 1))
// printed with repr(), so the C++ value must match bit for bit.
TEST(SpeakerHash, MatchesPythonHashlibExactly) {
  struct Case {
    const char* name;
    double percent;
    Split split;
  };
  const Case cases[] = {
      {"0132a06d_nohash_2.wav", 58.139242665016965, Split::kTrain},
      {"up/0135f3f2_nohash_1.wav", 99.60960969038017, Split::kTrain},
      {"down/099d52ad_nohash_2.wav", 9.288007835209427, Split::kVal},
      {"foo.wav", 35.58048706934219, Split::kTrain},  // no "_nohash_": whole name hashed
      {"speaker_nohash_x_nohash_1.wav", 61.651108128213195, Split::kTrain},
      {"bird/00b01445_nohash_0.wav", 93.06023190215402, Split::kTrain},
      {"2265b1f5_nohash_0.wav", 14.13353915612056, Split::kTest},
      {"7311d8a3_nohash_0.wav", 3.1212248140664753, Split::kVal},
      {"64c2f2e3_nohash_0.wav", 9.970124885217285, Split::kVal},
      {"07dbf924_nohash_0.wav", 10.166712926080173, Split::kTest},
      {"c4647159_nohash_0.wav", 19.871968178987267, Split::kTest},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(speaker_hash_percent(c.name), c.percent) << c.name;
    EXPECT_EQ(speaker_hash_split(c.name), c.split) << c.name;
  }
  // Same speaker, any clip number and folder: same split.
  EXPECT_EQ(speaker_hash_percent("x/2265b1f5_nohash_7.wav"),
            speaker_hash_percent("2265b1f5_nohash_0.wav"));
  // Other percentages move the boundaries.
  EXPECT_EQ(speaker_hash_split("2265b1f5_nohash_0.wav", 20, 10), Split::kVal);
  EXPECT_EQ(speaker_hash_split("0132a06d_nohash_2.wav", 10, 50), Split::kTest);
}

TEST(SplitNames, ParseAndName) {
  EXPECT_EQ(parse_split("train"), Split::kTrain);
  EXPECT_EQ(parse_split("val"), Split::kVal);
  EXPECT_EQ(parse_split("validation"), Split::kVal);
  EXPECT_EQ(parse_split("test"), Split::kTest);
  EXPECT_STREQ(split_name(Split::kVal), "val");
  EXPECT_THROW(parse_split("everything"), InputError);
}

void touch_wav(const TempDir& dir, const std::string& rel) {
  write_wav_pcm16(dir.file(rel), std::vector<float>(160, 0.01f), 16000);
}

// Speech Commands style folders. Speakers: 7311d8a3, 78e51061 -> val; 2265b1f5 -> test;
// c1d39ce8, 0132a06d -> train (hash values in the test above / Python).
void make_folders(const TempDir& dir) {
  for (const char* rel :
       {"up/7311d8a3_nohash_0.wav", "up/7311d8a3_nohash_1.wav", "up/2265b1f5_nohash_0.wav",
        "up/c1d39ce8_nohash_0.wav", "up/0132a06d_nohash_0.wav", "down/78e51061_nohash_0.wav",
        "down/c1d39ce8_nohash_1.wav", "down/2265b1f5_nohash_1.wav",
        "_background_noise_/white_noise.wav"}) {
    touch_wav(dir, rel);
  }
  test::write_bytes(dir.file("README.md"), "not a clip\n");
}

std::vector<std::string> rels(const Dataset& ds) {
  std::vector<std::string> out;
  for (const auto& c : ds.clips) out.push_back(c.rel);
  return out;
}

TEST(ScanDataset, FoldersWithSpeakerHash) {
  TempDir dir;
  make_folders(dir);
  const Dataset ds = scan_dataset(dir.path().string());
  EXPECT_EQ(ds.layout, "folders");
  EXPECT_EQ(ds.split_rule, "speaker-hash");
  EXPECT_EQ(ds.labels, (std::vector<std::string>{"down", "up"}));  // sorted; '_' folder ignored
  EXPECT_EQ(rels(ds),
            (std::vector<std::string>{"down/2265b1f5_nohash_1.wav", "down/78e51061_nohash_0.wav",
                                      "down/c1d39ce8_nohash_1.wav", "up/0132a06d_nohash_0.wav",
                                      "up/2265b1f5_nohash_0.wav", "up/7311d8a3_nohash_0.wav",
                                      "up/7311d8a3_nohash_1.wav", "up/c1d39ce8_nohash_0.wav"}));
  const auto cnt = ds.counts();
  ASSERT_EQ(cnt.size(), 2u);
  EXPECT_EQ(cnt[0], (std::array<int, 3>{1, 1, 1}));  // down
  EXPECT_EQ(cnt[1], (std::array<int, 3>{2, 2, 1}));  // up
  for (const auto& c : ds.clips) {
    EXPECT_EQ(c.split, speaker_hash_split(c.rel)) << c.rel;
    EXPECT_EQ(ds.labels[size_t(c.label)], c.rel.substr(0, c.rel.find('/')));
    EXPECT_EQ(read_audio(c.path, 16000).size(), 160u) << c.path;  // path openable as is
  }
  const auto val = ds.select(Split::kVal);
  ASSERT_EQ(val.size(), 3u);
  EXPECT_EQ(val[0]->rel, "down/78e51061_nohash_0.wav");
  EXPECT_EQ(val[1]->rel, "up/7311d8a3_nohash_0.wav");
  EXPECT_EQ(ds.select(Split::kTest).size(), 2u);
  EXPECT_EQ(ds.select(Split::kTrain).size(), 3u);
  EXPECT_TRUE(ds.warnings.empty()) << ds.summary();

  const std::string s = ds.summary();
  EXPECT_THAT(s, HasSubstr("layout folders"));
  EXPECT_THAT(s, HasSubstr("split rule speaker-hash"));
  EXPECT_THAT(s, HasSubstr("train    val   test  total"));
  EXPECT_THAT(s, HasSubstr("down       1      1      1      3"));
  EXPECT_THAT(s, HasSubstr("up         2      2      1      5"));
  EXPECT_THAT(s, HasSubstr("total      3      3      2      8"));
}

TEST(ScanDataset, FoldersWithListFiles) {
  TempDir dir;
  make_folders(dir);
  // Lists override the hash; unlisted clips are training. CRLF and blank lines tolerated.
  test::write_bytes(dir.file("validation_list.txt"),
                    "up/c1d39ce8_nohash_0.wav\r\ndown/2265b1f5_nohash_1.wav\n\n"
                    "up/deadbeef_nohash_0.wav\nleft/0a0b0c0d_nohash_0.wav\n");
  test::write_bytes(dir.file("testing_list.txt"), "up/7311d8a3_nohash_0.wav\n");
  const Dataset ds = scan_dataset(dir.path().string());
  EXPECT_EQ(ds.split_rule, "lists");
  const auto cnt = ds.counts();
  EXPECT_EQ(cnt[0], (std::array<int, 3>{2, 1, 0}));  // down
  EXPECT_EQ(cnt[1], (std::array<int, 3>{3, 1, 1}));  // up
  for (const auto& c : ds.clips) {
    const Split want = c.rel == "up/c1d39ce8_nohash_0.wav" || c.rel == "down/2265b1f5_nohash_1.wav"
                           ? Split::kVal
                       : c.rel == "up/7311d8a3_nohash_0.wav" ? Split::kTest
                                                             : Split::kTrain;
    EXPECT_EQ(c.split, want) << c.rel;
  }
  // The listed clip that is not on disk is reported, not silently ignored.
  const std::string s = ds.summary();
  EXPECT_THAT(s, HasSubstr("split rule lists"));
  EXPECT_THAT(s, HasSubstr("validation_list.txt: 1 'up' entries not found on disk"));
  EXPECT_THAT(s, HasSubstr("up/deadbeef_nohash_0.wav"));
  EXPECT_THAT(s, HasSubstr("labels with no folder here"));  // the 'left' entry

  // Selecting only 'down' drops the warning about 'up'.
  const Dataset down = scan_dataset(dir.path().string(), {"down"});
  EXPECT_THAT(down.summary(), ::testing::Not(HasSubstr("deadbeef")));
}

TEST(ScanDataset, OnlyValidationListMeansNoTestSplit) {
  TempDir dir;
  make_folders(dir);
  test::write_bytes(dir.file("validation_list.txt"), "up/7311d8a3_nohash_0.wav\n");
  const Dataset ds = scan_dataset(dir.path().string());
  EXPECT_EQ(ds.split_rule, "lists");
  EXPECT_EQ(ds.select(Split::kVal).size(), 1u);
  EXPECT_TRUE(ds.select(Split::kTest).empty());
  EXPECT_EQ(ds.select(Split::kTrain).size(), 7u);
}

TEST(ScanDataset, LabelSelectionKeepsGivenOrder) {
  TempDir dir;
  make_folders(dir);
  const Dataset up = scan_dataset(dir.path().string(), {"up"});
  EXPECT_EQ(up.labels, (std::vector<std::string>{"up"}));
  EXPECT_EQ(up.clips.size(), 5u);
  for (const auto& c : up.clips) EXPECT_EQ(c.label, 0);

  const Dataset both = scan_dataset(dir.path().string(), {"up", "down"});
  EXPECT_EQ(both.labels, (std::vector<std::string>{"up", "down"}));
  EXPECT_EQ(both.counts()[0], (std::array<int, 3>{2, 2, 1}));       // up first now
  EXPECT_EQ(both.clips.front().rel, "down/2265b1f5_nohash_1.wav");  // still sorted by path
  EXPECT_EQ(both.clips.front().label, 1);
}

TEST(ScanDataset, UnknownLabelNamesTheLabelsPresent) {
  TempDir dir;
  make_folders(dir);
  const std::string root = dir.path().string();
  try {
    scan_dataset(root, {"up", "left"});
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "label 'left' not found in '" + root + "' (labels present: down, up)");
  }
  EXPECT_THROW(scan_dataset(root, {"up", "up"}), InputError);
  EXPECT_THROW(scan_dataset(root, {"_background_noise_"}), InputError);
}

TEST(ScanDataset, CourseLayout) {
  TempDir dir;
  for (const char* rel :
       {"msc-train/up_1.wav", "msc-train/up_2.wav", "msc-train/down_1.wav",
        "msc-train/down_x_y.wav", "msc-val/up_3.wav", "msc-val/down_3.wav", "msc-test/up_4.wav"}) {
    touch_wav(dir, rel);
  }
  test::write_bytes(dir.file("msc-test/notes.txt"), "x");
  const Dataset ds = scan_dataset(dir.path().string());
  EXPECT_EQ(ds.layout, "course");
  EXPECT_EQ(ds.split_rule, "course-folders");
  EXPECT_EQ(ds.labels, (std::vector<std::string>{"down", "up"}));
  EXPECT_EQ(rels(ds), (std::vector<std::string>{"msc-test/up_4.wav", "msc-train/down_1.wav",
                                                "msc-train/down_x_y.wav", "msc-train/up_1.wav",
                                                "msc-train/up_2.wav", "msc-val/down_3.wav",
                                                "msc-val/up_3.wav"}));
  EXPECT_EQ(ds.counts()[0], (std::array<int, 3>{2, 1, 0}));  // down (label before first '_')
  EXPECT_EQ(ds.counts()[1], (std::array<int, 3>{2, 1, 1}));  // up
  EXPECT_EQ(ds.select(Split::kTest).front()->rel, "msc-test/up_4.wav");
  EXPECT_THAT(ds.summary(), HasSubstr("1 non-.wav entries in 'msc-test/' skipped"));
  EXPECT_EQ(read_audio(ds.clips[0].path, 16000).size(), 160u);

  const Dataset up = scan_dataset(dir.path().string(), {"up"});
  EXPECT_EQ(up.clips.size(), 4u);
  EXPECT_THROW(scan_dataset(dir.path().string(), {"left"}), InputError);
}

TEST(ScanDataset, CourseLayoutWithMissingFolderAndBadName) {
  TempDir dir;
  touch_wav(dir, "msc-train/up_1.wav");
  touch_wav(dir, "msc-val/down_1.wav");
  const Dataset ds = scan_dataset(dir.path().string());
  EXPECT_THAT(ds.summary(), HasSubstr("'msc-test/' missing: no test clips"));

  touch_wav(dir, "msc-train/nolabel.wav");
  try {
    scan_dataset(dir.path().string());
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nolabel.wav: course layout file names must be"));
  }
}

TEST(ScanDatasetErrors, EmptyFolder) {
  TempDir dir;
  const std::string root = (dir.path() / "foo").string();
  std::filesystem::create_directories(root);
  try {
    scan_dataset(root);
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "dataset folder '" + root + "' holds no .wav files");
  }
  // Label folders without clips are no better.
  std::filesystem::create_directories(root + "/up");
  EXPECT_THROW(scan_dataset(root), InputError);
}

TEST(ScanDatasetErrors, LabelNamesMustBeUtf8Text) {
  TempDir dir;
  touch_wav(dir, "up/a_nohash_0.wav");
  touch_wav(dir, "d\xF6wn/b_nohash_0.wav");  // Latin-1 "down" with an umlaut: not UTF-8
  try {
    scan_dataset(dir.path().string());
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("d\xF6wn: a label folder's name must be UTF-8 text"));
  }
  TempDir course;
  touch_wav(course, "msc-train/up_1.wav");
  touch_wav(course, "msc-train/\x01up_2.wav");
  try {
    scan_dataset(course.path().string());
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("the label part of the name must be UTF-8 text"));
  }
}

TEST(ScanDatasetErrors, MissingFolderAndFileAsRoot) {
  TempDir dir;
  const std::string missing = (dir.path() / "nope").string();
  try {
    scan_dataset(missing);
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr(missing));
    EXPECT_THAT(e.what(), HasSubstr("does not exist"));
  }
  touch_wav(dir, "a.wav");
  EXPECT_THROW(scan_dataset(dir.file("a.wav")), InputError);
}

TEST(ScanDatasetErrors, WavsWithoutLabelFolders) {
  TempDir dir;
  touch_wav(dir, "up_1.wav");
  try {
    scan_dataset(dir.path().string());
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no label folders"));
  }
}

TEST(ScanDataset, WarnsAboutSkippedFiles) {
  TempDir dir;
  make_folders(dir);
  test::write_bytes(dir.file("up/readme.txt"), "x");
  touch_wav(dir, "stray.wav");
  std::filesystem::create_directories(dir.path() / "empty_label");
  const Dataset ds = scan_dataset(dir.path().string());
  EXPECT_EQ(ds.labels, (std::vector<std::string>{"down", "up"}));
  const std::string s = ds.summary();
  EXPECT_THAT(s, HasSubstr("1 non-.wav file(s) in 'up/' skipped"));
  EXPECT_THAT(s, HasSubstr("1 .wav file(s) directly in"));
  EXPECT_THAT(s, HasSubstr("folder 'empty_label/' holds no .wav files"));
}

}  // namespace
}  // namespace tkws
