// Training a keyword model with `_unknown_` and `_silence_` classes on a synthetic dataset of
// two folders: up/down chirps in one, other "words" (steady tones, noise bursts) and background
// recordings in the other. Checks the classes the file stores, the per-epoch class sizes, the
// validation groups in metrics.json, byte-identical retraining and resume, and bad data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "../common/synth_data.h"
#include "tinykws/audio/wav.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/config/config.h"
#include "tinykws/format/tkws.h"
#include "tinykws/train/trainer.h"

namespace fs = std::filesystem;

namespace tkws {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A "word" that is not up or down: a steady tone (pitch by word) or a noise burst.
std::vector<float> other_word(int kind, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<float> x(16000, 0.0f);
  const int len = static_cast<int>(16000 * (0.3 + 0.3 * u(rng)));
  const int start = static_cast<int>((16000 - len) * u(rng));
  const double f = 300.0 + 250.0 * kind + 50 * u(rng), amp = 0.1 + 0.3 * u(rng);
  for (int i = 0; i < len; ++i) {
    const double env = std::sin(M_PI * i / len);
    x[start + i] = static_cast<float>(
        amp * env * (kind == 2 ? 0.5 * g(rng) : std::sin(2 * M_PI * f * i / 16000.0)));
  }
  for (auto& v : x) v += static_cast<float>(0.004 * g(rng));
  return x;
}

// root/{go,stop,left}/spk_nohash_j.wav (speakers < 2 listed for validation) and
// root/_background_noise_/{hum,hiss}.wav (3 s each).
std::string make_other_words(const std::string& root) {
  fs::remove_all(root);
  fs::create_directories(root);
  std::mt19937_64 rng(5);
  std::ofstream list(fs::path(root) / "validation_list.txt");
  const char* words[] = {"go", "stop", "left"};
  for (int k = 0; k < 3; ++k)
    for (int s = 0; s < 8; ++s)
      for (int j = 0; j < 2; ++j) {
        char name[64];
        std::snprintf(name, sizeof name, "%08x_nohash_%d.wav", 0x9000 + s * 7919, j);
        const std::string rel = std::string(words[k]) + "/" + name;
        fs::create_directories(fs::path(root) / words[k]);
        write_wav_pcm16((fs::path(root) / rel).string(), other_word(k, rng), 16000);
        if (s < 2) list << rel << "\n";
      }
  fs::create_directories(fs::path(root) / "_background_noise_");
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<float> hum(48000), hiss(48000);
  for (int i = 0; i < 48000; ++i) {
    hum[i] = static_cast<float>(0.2 * std::sin(2 * M_PI * 100 * i / 16000.0) + 0.01 * g(rng));
    hiss[i] = static_cast<float>(0.1 * g(rng));
  }
  write_wav_pcm16((fs::path(root) / "_background_noise_/hum.wav").string(), hum, 16000);
  write_wav_pcm16((fs::path(root) / "_background_noise_/hiss.wav").string(), hiss, 16000);
  return root;
}

const char* kKwsConfig = R"(
[frontend]
frame_length = 480
frame_step = 320
fft_length = 512
num_mel_bins = 20
upper_hz = 4000
features = "logmel"

[model]
layers = [
  { type = "conv", filters = 8, kernel = [5, 3], stride = 2, bias = false }, { type = "bn" },
  { type = "relu" }, { type = "dwconv", kernel = 3 }, { type = "bn" }, { type = "relu" },
  { type = "pwconv", filters = 8 }, { type = "bn" }, { type = "relu" },
  { type = "gap" }, { type = "dense" }, { type = "softmax" } ]

[train]
epochs = 3
batch_size = 16
lr_initial = 0.01
lr_final = 0.001
threads = 1
labels = ["up", "down"]
unknown_percentage = 50
held_out_words = ["left"]
unknown_reversed = 0.2
unknown_fragments = 0.2
unknown_babble = 0.2
silence_percentage = 25

[train.augment]
time_shift_ms = 50
background_frequency = 0.5
background_volume = 0.2

[detector]
threshold = 0.9
min_hops = 2
)";

class KwsTrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = testing::temp_dir("kws_train");
    words_ = testing::make_synth_dataset(root_ + "/updown", 8, 3, 2);
    others_ = make_other_words(root_ + "/others");
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static TrainResult run(const Config& c, const std::string& out, int stop_after = 0,
                         bool resume = false) {
    TrainOptions o;
    o.data_dirs = {words_, others_};
    o.out_dir = out;
    o.progress = false;
    o.io_threads = 2;
    o.stop_after_epoch = stop_after;
    o.resume = resume;
    return train_model(c, o);
  }
  static inline std::string root_, words_, others_;
};

TEST_F(KwsTrainTest, FourClassModelWithGroupsAndClassSizes) {
  const Config c = parse_config(kKwsConfig);
  run(c, root_ + "/a");
  const Model m = read_model(root_ + "/a/model.tkws");
  EXPECT_THAT(m.labels, ElementsAre("up", "down", "_unknown_", "_silence_"));
  EXPECT_THAT(m.keyword_flags, ElementsAre(1, 1, 0, 0));
  EXPECT_EQ(m.detector, c.detector);  // [detector]: the model's streaming defaults
  EXPECT_FLOAT_EQ(m.detector.threshold, 0.9f);
  EXPECT_EQ(m.detector.min_hops, 2);
  const auto metrics = nlohmann::json::parse(read_text_file(root_ + "/a/metrics.json"));
  // 6 training speakers x 3 clips x 2 keywords = 36; ceil(50 %) = 18 unknown; ceil(25 %) = 9.
  EXPECT_EQ(metrics["n_train"], 36 + 18 + 9);
  const auto& groups = metrics["kws"]["groups"];
  EXPECT_EQ(groups["keyword"]["clips"], 2 * 2 * 3);  // 2 validation speakers
  EXPECT_EQ(groups["unknown"]["clips"], 2 * 2 * 2);  // go, stop
  EXPECT_EQ(groups["held_out"]["clips"], 2 * 2);     // left: validated, never trained on
  EXPECT_EQ(groups["background"]["clips"], 200);     // the fixed evaluation windows
  EXPECT_FALSE(metrics["kws"]["threshold_curve"].empty());
  const auto meta = nlohmann::json::parse(m.metadata_json);
  EXPECT_THAT(meta["unknown_words"].get<std::vector<std::string>>(), ElementsAre("go", "stop"));
  EXPECT_THAT(meta["held_out_words"].get<std::vector<std::string>>(), ElementsAre("left"));
}

TEST_F(KwsTrainTest, RedrawnClassesAreDeterministicAndResumable) {
  const Config c = parse_config(kKwsConfig);
  run(c, root_ + "/b1");
  run(c, root_ + "/b2");
  EXPECT_EQ(read_text_file(root_ + "/b1/model.tkws"), read_text_file(root_ + "/b2/model.tkws"));
  const TrainResult cut = run(c, root_ + "/b3", /*stop_after=*/2);
  EXPECT_TRUE(cut.interrupted);
  run(c, root_ + "/b3", 0, /*resume=*/true);
  EXPECT_EQ(read_text_file(root_ + "/b1/model.tkws"), read_text_file(root_ + "/b3/model.tkws"));
  // Another seed draws other unknown / silence clips: another model.
  Config d = c;
  d.train.seed = 1;
  run(d, root_ + "/b4");
  EXPECT_NE(read_text_file(root_ + "/b1/model.tkws"), read_text_file(root_ + "/b4/model.tkws"));
}

TEST_F(KwsTrainTest, BadDataNamesTheWordOrFolder) {
  Config c = parse_config(kKwsConfig);
  c.train.unknown_words = {"yes"};
  EXPECT_THAT([&] { run(c, root_ + "/bad1"); },
              ::testing::ThrowsMessage<InputError>(HasSubstr("unknown word 'yes' has no folder")));
  c = parse_config(kKwsConfig);
  TrainOptions o;
  o.data_dirs = {words_};  // no background recordings, but _silence_ is asked for
  o.out_dir = root_ + "/bad2";
  o.progress = false;
  c.train.held_out_words.clear();
  c.train.unknown_percentage = 0;
  EXPECT_THAT([&] { train_model(c, o); },
              ::testing::ThrowsMessage<InputError>(HasSubstr("background recordings")));
}

}  // namespace
}  // namespace tkws
