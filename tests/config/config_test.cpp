#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "../audio/audio_test_util.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/config/config.h"
#include "tinykws/config/toml_reader.h"

namespace tkws {
namespace {

std::string preset(const std::string& name) {
  return std::string(TINYKWS_SOURCE_DIR) + "/configs/" + name + ".toml";
}

// Expects parse_config(text) to throw InputError whose message contains every word.
void expect_error(const std::string& text, std::vector<std::string> words) {
  try {
    parse_config(text, "test.toml");
    FAIL() << "no error for:\n" << text;
  } catch (const InputError& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("test.toml", 0), 0u) << msg;
    for (auto& w : words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' in: " << msg;
  }
}

const char* kNet = R"(
[model]
layers = [ { type = "conv", filters = 4, kernel = 3, stride = 2 }, { type = "relu" },
           { type = "gap" }, { type = "dense" } ]
)";

TEST(Config, PresetsParseAndValidate) {
  for (auto name : {"seed-a", "seed-b", "course-dscnn", "default", "mfcc-64", "far-field"}) {
    SCOPED_TRACE(name);
    Config c = load_config(preset(name));
    EXPECT_FALSE(c.model.layers.empty());
    EXPECT_GT(c.frontend.num_frames(), 0);
  }
}

// The far-field preset is the default with room reverberation: every other setting the same.
TEST(Config, FarFieldPresetIsTheDefaultWithRooms) {
  toml::table far = parse_toml(resolve_config_text(preset("far-field")), "far-field");
  toml::table* aug = far["train"]["augment"].as_table();
  ASSERT_NE(aug, nullptr);
  for (auto key : {"reverb_prob", "reverb_rt60_min", "reverb_rt60_max", "reverb_drr_db_min",
                   "reverb_drr_db_max"})
    EXPECT_EQ(aug->erase(key), 1u) << key;
  EXPECT_EQ(far, parse_toml(read_text_file(preset("default")), "default"));
  const Config c = load_config(preset("far-field"));
  EXPECT_FLOAT_EQ(c.train.augment.reverb_prob, 0.3f);
  EXPECT_EQ(load_config(preset("default")).train.augment.reverb_prob, 0.0f);
}

// [detector]: the streaming defaults a trained model stores; checked as the model's are.
TEST(Config, DetectorSection) {
  const std::string net = std::string(kNet);
  const Config c = parse_config(net +
                                    "[detector]\nthreshold = 0.9\nmin_hops = 2\nhop_ms = 40\n"
                                    "gate = false\ngate_dbfs = -45\n",
                                "test.toml");
  DetectorSettings want;
  want.threshold = 0.9f, want.min_hops = 2, want.hop_ms = 40, want.gate = false;
  want.gate_dbfs = -45.0f;
  EXPECT_EQ(c.detector, want);
  EXPECT_EQ(parse_config(net, "test.toml").detector, DetectorSettings{});  // absent: defaults
  expect_error(net + "[detector]\nthreshold = 1.5\n", {"test.toml", "detector.threshold = 1.5"});
  expect_error(net + "[detector]\nhop_ms = 0\n", {"detector.hop_ms = 0", "[1, 5000]"});
  expect_error(net + "[detector]\nhops = 3\n", {"detector", "hops"});  // unknown key
}

// The experiment configs docs/keyword-spotting.md tables cite must still parse.
TEST(Config, ExperimentConfigsParseAndValidate) {
  const std::filesystem::path dir = std::string(TINYKWS_SOURCE_DIR) + "/configs/experiments";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".toml") continue;
    SCOPED_TRACE(e.path().string());
    Config c = load_config(e.path().string());
    EXPECT_FALSE(c.model.layers.empty());
    EXPECT_TRUE(c.train.has_unknown());
    ++n;
  }
  EXPECT_GT(n, 10);
}

TEST(Config, SeedPresetsMatchTheReports) {
  Config a = load_config(preset("seed-a"));  // report 1, Tab. I and II
  EXPECT_EQ(a.frontend.frame_length, 1024);
  EXPECT_EQ(a.frontend.frame_step, 512);
  EXPECT_EQ(a.frontend.num_mel_bins, 100);
  EXPECT_FLOAT_EQ(a.frontend.upper_hz, 1000.0f);
  EXPECT_EQ(a.frontend.num_mfcc, 10);
  EXPECT_EQ(a.train.batch_size, 256);
  EXPECT_FLOAT_EQ(a.train.lr_final, 1e-5f);
  Config b = load_config(preset("seed-b"));  // report 2
  EXPECT_EQ(b.frontend.frame_length, 512);
  EXPECT_EQ(b.frontend.frame_step, 256);
  EXPECT_EQ(b.frontend.num_mel_bins, 16);
  EXPECT_EQ(b.train.batch_size, 20);
  EXPECT_EQ(b.train.epochs, 20);
  Config c = load_config(preset("course-dscnn"));
  EXPECT_EQ(c.frontend.frame_length, 640);
  EXPECT_EQ(c.frontend.fft_length, 640);
  EXPECT_EQ(c.frontend.num_frames(), 49);
}

TEST(Config, SecondsAndSamples) {
  Config c =
      parse_config(std::string("[frontend]\nframe_length_s = 0.032\nframe_step = 160\n") + kNet);
  EXPECT_EQ(c.frontend.frame_length, 512);
  EXPECT_EQ(c.frontend.frame_step, 160);
  expect_error(std::string("[frontend]\nframe_length_s = 0.032\nframe_length = 512\n") + kNet,
               {"frame_length", "both"});
}

TEST(Config, LayersParse) {
  Config c = parse_config(std::string(R"(
[model]
width_multiplier = 0.5
layers = [ { type = "conv", filters = 8, kernel = [5, 3], stride = [2, 1], padding = "valid" },
           { type = "bn" }, { type = "dwconv" }, { type = "pwconv", filters = 6, bias = false },
           { type = "maxpool", kernel = 2 }, { type = "dropout", rate = 0.25 },
           { type = "gap" }, { type = "dense", units = 2 }, { type = "softmax" } ]
)"));
  const auto& L = c.model.layers;
  ASSERT_EQ(L.size(), 9u);
  EXPECT_EQ(L[0].kernel_h, 5);
  EXPECT_EQ(L[0].kernel_w, 3);
  EXPECT_EQ(L[0].stride_h, 2);
  EXPECT_EQ(L[0].stride_w, 1);
  EXPECT_EQ(L[0].padding, Padding::kValid);
  EXPECT_EQ(L[1].kind, LayerKind::kBatchNorm);
  EXPECT_EQ(L[3].kernel_h, 1);
  EXPECT_FALSE(L[3].bias);
  EXPECT_EQ(L[4].stride_h, 2);  // pool stride defaults to its kernel
  EXPECT_FLOAT_EQ(L[5].rate, 0.25f);
  EXPECT_EQ(c.model.scaled_filters(8), 4);
  EXPECT_EQ(c.model.scaled_filters(1), 1);
}

TEST(Config, BadValuesNameTheField) {
  expect_error(std::string("[frontend]\nnum_mfcc = 50\n") + kNet, {"num_mfcc", "50"});
  expect_error(std::string("[frontend]\nupper_hz = 9000\n") + kNet, {"upper_hz"});
  expect_error(std::string("[frontend]\nfeatures = \"wavelet\"\n") + kNet,
               {"features", "wavelet", "mfcc"});
  expect_error(std::string("[train]\nepochs = 0\n") + kNet, {"train.epochs", "0"});
  expect_error(std::string("[train]\nlr_initial = -1.0\n") + kNet, {"lr_initial"});
  expect_error(std::string("[train]\nbatch_size = \"big\"\n") + kNet, {"batch_size", "integer"});
  expect_error(std::string("[train.augment]\nnoise_prob = 2.0\n") + kNet, {"noise_prob"});
  expect_error(std::string("[train]\nlabels = [\"up\", \"up\"]\n") + kNet, {"labels", "twice"});
  expect_error(R"([model]
layers = [ { type = "dropout", rate = 1.5 }, { type = "gap" }, { type = "dense" } ])",
               {"layers[0]", "rate"});
  expect_error(R"([model]
layers = [ { type = "conv", filters = 4 }, { type = "dense" } ])",
               {"layers[1]", "gap"});
  expect_error(R"([model]
layers = [ { type = "conv", filters = 4 }, { type = "gap" } ])",
               {"no dense"});
  expect_error("[model]\nlayers = [ { type = \"lstm\" } ]\n", {"layers[0].type", "lstm"});
  // 2^32 + 3 is not 3 (was read modulo 2^32).
  expect_error(R"([model]
layers = [ { type = "conv", filters = 4, kernel = 4294967299 }, { type = "gap" }, { type = "dense" } ])",
               {"kernel", "4294967299", "out of range"});
}

TEST(Config, UnknownKeysAndSectionsAreErrors) {
  expect_error(std::string("[train]\nepoch = 3\n") + kNet, {"train.epoch", "not a known"});
  expect_error(std::string("[trian]\nepochs = 3\n") + kNet, {"unknown section", "trian"});
  expect_error(R"([model]
layers = [ { type = "conv", filters = 4, kernal = 3 }, { type = "gap" }, { type = "dense" } ])",
               {"layers[0].kernal"});
}

TEST(Config, DistillSection) {
  Config c = parse_config(std::string(kNet) + "[distill]\nalpha = 0.3\ntemperature = 4\n");
  EXPECT_TRUE(c.distill.enabled);
  EXPECT_EQ(c.distill.teacher, "self");
  EXPECT_FLOAT_EQ(c.distill.alpha, 0.3f);
  expect_error(std::string(kNet) + "[distill]\nalpha = 1.5\n", {"distill.alpha"});
  expect_error(std::string(kNet) + "[distill]\ntemperature = 0\n", {"distill.temperature"});
}

TEST(Config, SyntaxErrorGivesLine) {
  expect_error("[train]\nepochs = = 3\n", {"test.toml:2", "syntax"});
}

// `train --print-defaults` prints config_defaults_toml(): with a layer list added and the
// optional sections uncommented, it must parse back to exactly the structs' defaults.
TEST(Config, PrintedDefaultsParseBackToTheDefaults) {
  std::string text;
  std::istringstream in(config_defaults_toml());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# layers", 0) == 0 || line.rfind("# types", 0) == 0) continue;
    if (line.find("<last>") != std::string::npos) continue;  // end_epoch placeholder
    if (line.rfind("# ", 0) == 0) line = line.substr(2);     // the optional sections
    if (line == "[model]")
      line +=
          "\nlayers = [ { type = \"conv\", filters = 4, kernel = 3 }, { type = \"gap\" }, "
          "{ type = \"dense\" } ]";
    text += line + "\n";
  }
  const Config c = parse_config(text, "defaults.toml");
  const FrontendConfig f;
  EXPECT_EQ(c.frontend.frame_length, f.frame_length);
  EXPECT_EQ(c.frontend.fft_length, f.fft_length);
  EXPECT_EQ(c.frontend.kind, f.kind);
  EXPECT_EQ(c.frontend.spectrum, f.spectrum);
  EXPECT_FLOAT_EQ(c.frontend.log_offset, f.log_offset);
  const TrainConfig t;
  EXPECT_EQ(c.train.epochs, t.epochs);
  EXPECT_FLOAT_EQ(c.train.lr_initial, t.lr_initial);
  EXPECT_FLOAT_EQ(c.train.lr_final, t.lr_final);
  EXPECT_EQ(c.train.lr_schedule, t.lr_schedule);
  EXPECT_EQ(c.train.normalize, t.normalize);
  EXPECT_FLOAT_EQ(c.train.augment.noise_snr_db_max, AugmentConfig{}.noise_snr_db_max);
  EXPECT_TRUE(c.distill.enabled);
  EXPECT_EQ(c.distill.teacher, DistillConfig{}.teacher);
  EXPECT_FLOAT_EQ(c.distill.temperature, DistillConfig{}.temperature);
  const PruneConfig p;
  EXPECT_TRUE(c.prune.enabled);
  EXPECT_EQ(c.prune.schedule, p.schedule);
  EXPECT_FLOAT_EQ(c.prune.final_sparsity, p.final_sparsity);
  EXPECT_FLOAT_EQ(c.prune.power, p.power);
  EXPECT_EQ(c.prune.frequency, p.frequency);
  EXPECT_EQ(c.prune.depthwise, p.depthwise);
  EXPECT_EQ(c.detector, DetectorSettings{});
  const ClusterConfig k;
  EXPECT_TRUE(c.cluster.enabled);
  EXPECT_EQ(c.cluster.clusters, k.clusters);
  EXPECT_EQ(c.cluster.init, k.init);
  EXPECT_EQ(c.cluster.gradient, k.gradient);
  EXPECT_EQ(c.cluster.preserve_sparsity, k.preserve_sparsity);
  EXPECT_EQ(c.quantize.mode, QuantizeConfig{}.mode);
  EXPECT_EQ(c.quantize.calibration_clips, QuantizeConfig{}.calibration_clips);
  EXPECT_FLOAT_EQ(c.train.unknown_percentage, t.unknown_percentage);
  EXPECT_FLOAT_EQ(c.train.silence_percentage, t.silence_percentage);
  EXPECT_FLOAT_EQ(c.train.unknown_babble, t.unknown_babble);
  EXPECT_FLOAT_EQ(c.train.augment.background_frequency, AugmentConfig{}.background_frequency);
  EXPECT_FLOAT_EQ(c.train.augment.background_volume, AugmentConfig{}.background_volume);
  EXPECT_FLOAT_EQ(c.train.augment.speed_max, AugmentConfig{}.speed_max);
}

TEST(Config, UnknownAndSilenceClasses) {
  const std::string train = std::string(kNet) + "[train]\nlabels = [\"up\", \"down\"]\n";
  Config c =
      parse_config(train +
                       "unknown_words = [\"go\", \"stop\"]\nunknown_percentage = 60\n"
                       "held_out_words = [\"left\"]\nsilence_percentage = 10\n"
                       "unknown_reversed = 0.1\n[train.augment]\nbackground_frequency = 0.8\n",
                   "test.toml");
  EXPECT_TRUE(c.train.has_unknown());
  EXPECT_TRUE(c.train.has_silence());
  EXPECT_EQ(c.train.held_out_words, std::vector<std::string>{"left"});
  EXPECT_FLOAT_EQ(c.train.augment.background_frequency, 0.8f);
  EXPECT_TRUE(c.train.augment.waveform());
  const Config d = load_config(preset("default"));  // the four-class default
  EXPECT_TRUE(d.train.has_unknown() && d.train.has_silence());
  EXPECT_FALSE(load_config(preset("seed-a")).train.has_unknown());  // the reports stay binary

  expect_error(train + "unknown_percentage = 501\n", {"train.unknown_percentage", "[0, 500]"});
  expect_error(train + "silence_percentage = -1\n", {"train.silence_percentage"});
  expect_error(train + "unknown_percentage = 10\nunknown_words = [\"up\"]\n",
               {"unknown_words", "'up' is a keyword"});
  expect_error(train +
                   "unknown_percentage = 10\nunknown_words = [\"go\"]\n"
                   "held_out_words = [\"go\"]\n",
               {"'go' listed twice"});
  expect_error(train + "held_out_words = [\"go\"]\n", {"held_out_words", "_unknown_"});
  expect_error(train + "unknown_words = [\"go\"]\n", {"unknown_percentage = 0"});
  expect_error(train + "unknown_percentage = 10\nunknown_reversed = 0.6\nunknown_babble = 0.6\n",
               {"must be <= 1"});
  expect_error(std::string(kNet) + "[train]\nunknown_percentage = 10\n",
               {"train.labels", "must be listed"});
  expect_error(std::string(kNet) + "[train]\nlabels = [\"_silence_\"]\n", {"cannot be a keyword"});
  expect_error(train + "[train.augment]\nbackground_volume = 2\n", {"background_volume"});
  expect_error(train + "[train.augment]\nspeed_min = 1.2\nspeed_max = 1.1\n",
               {"train.augment.speed_min = 1.2", "0.5 <= min <= max <= 2"});
  expect_error(train + "[train.augment]\nspeed_max = 3\n", {"speed_max = 3"});
  const Config s =
      parse_config(train + "[train.augment]\nspeed_min = 0.9\nspeed_max = 1.1\n", "test.toml");
  EXPECT_FLOAT_EQ(s.train.augment.speed_min, 0.9f);
  EXPECT_TRUE(s.train.augment.speed() && s.train.augment.waveform());
  EXPECT_FALSE(AugmentConfig{}.speed());
  // Background by SNR: the mode, the range, and the errors.
  const Config b = parse_config(train +
                                    "[train.augment]\nbackground_frequency = 0.8\n"
                                    "background_level = \"snr\"\nbackground_snr_db_min = 0\n"
                                    "background_snr_db_max = 15\n",
                                "test.toml");
  EXPECT_EQ(b.train.augment.background_level, AugmentConfig::BackgroundLevel::kSnr);
  EXPECT_FLOAT_EQ(b.train.augment.background_snr_db_min, 0.0f);
  EXPECT_FLOAT_EQ(b.train.augment.background_snr_db_max, 15.0f);
  EXPECT_EQ(AugmentConfig{}.background_level, AugmentConfig::BackgroundLevel::kVolume);
  expect_error(train + "[train.augment]\nbackground_level = \"db\"\n", {"background_level"});
  // VTLP: a range, and log-Mel features only.
  expect_error(train + "[train.augment]\nvtlp_min = 0.7\n", {"vtlp_min = 0.7", "0.8 <= min"});
  expect_error("[frontend]\nfeatures = \"mfcc\"\n" + train +
                   "[train.augment]\nvtlp_min = 0.9\nvtlp_max = 1.1\n",
               {"vtlp", "logmel"});
  const Config v = parse_config("[frontend]\nfeatures = \"logmel\"\n" + train +
                                    "[train.augment]\nvtlp_min = 0.9\nvtlp_max = 1.1\n",
                                "test.toml");
  EXPECT_FLOAT_EQ(v.train.augment.vtlp_max, 1.1f);
  EXPECT_TRUE(v.train.augment.vtlp());
  expect_error(train + "[train.augment]\nreverb_prob = 1.5\n", {"reverb_prob = 1.5", "[0, 1]"});
  expect_error(train + "[train.augment]\nreverb_rt60_min = 0.9\nreverb_rt60_max = 0.5\n",
               {"reverb_rt60_min = 0.9", "0.05 <= min <= max <= 2"});
  expect_error(train + "[train.augment]\nreverb_drr_db_max = 50\n",
               {"reverb_drr_db_max = 50", "-20 <= min <= max <= 40"});
  Config rv = parse_config(train + "[train.augment]\nreverb_prob = 0.3\nreverb_rt60_max = 1.2\n",
                           "test.toml");
  EXPECT_FLOAT_EQ(rv.train.augment.reverb_prob, 0.3f);
  EXPECT_FLOAT_EQ(rv.train.augment.reverb_rt60_max, 1.2f);
  EXPECT_TRUE(rv.train.augment.waveform());
  expect_error(train + "[train.augment]\nbackground_snr_db_min = 30\n",
               {"background_snr_db_min = 30", "-30 <= min <= max <= 60"});
}

// `base = "FILE"`: the file's settings over the base's, tables merged key by key, any other
// value replaced whole; bases of bases; a section switched off again with enabled = false.
TEST(Config, BaseConfigsMerge) {
  test::TempDir dir;
  const std::string base = dir.file("base.toml"), mid = dir.file("sub/mid.toml"),
                    top = dir.file("sub/top.toml");
  write_file_atomic(base, std::string(kNet) + R"(
[train]
epochs = 5
labels = ["up", "down"]
unknown_percentage = 50
[train.augment]
noise_prob = 0.5
time_shift_ms = 100
[prune]
final_sparsity = 0.4
[distill]
teacher = "teachers/t.tkws"
)");
  write_file_atomic(mid, R"(base = "../base.toml"   # a comment
[train]
epochs = 7
labels = ["yes", "no"]
[train.augment]
gain_db_max = 3
[prune]
enabled = false
)");
  write_file_atomic(top, "base = \"mid.toml\"\n[train.augment]\nnoise_prob = 0.25\n");
  const Config b = load_config(base), c = load_config(top);
  EXPECT_EQ(b.text, read_text_file(base));  // no base: the text as written
  EXPECT_TRUE(b.prune.enabled);
  EXPECT_EQ(c.train.epochs, 7);
  EXPECT_EQ(c.train.labels, (std::vector<std::string>{"yes", "no"}));  // arrays replace
  EXPECT_FLOAT_EQ(c.train.unknown_percentage, 50.0f);
  EXPECT_FLOAT_EQ(c.train.augment.noise_prob, 0.25f);
  EXPECT_FLOAT_EQ(c.train.augment.time_shift_ms, 100.0f);
  EXPECT_FLOAT_EQ(c.train.augment.gain_db_max, 3.0f);
  EXPECT_FALSE(c.prune.enabled);
  EXPECT_FLOAT_EQ(c.prune.final_sparsity, 0.4f);
  EXPECT_EQ(c.model.layers.size(), b.model.layers.size());
  // The base's teacher path names a file next to the base, rewritten for the loaded file.
  EXPECT_TRUE(c.distill.enabled);
  EXPECT_EQ(c.distill.teacher, "../teachers/t.tkws");
  // What the run records parses to the same config on its own.
  EXPECT_NE(c.text.find("with its base configs merged"), std::string::npos);
  EXPECT_EQ(c.text.find("base ="), std::string::npos);
  const Config again = parse_config(c.text, "recorded.toml");
  EXPECT_EQ(again.train.epochs, 7);
  EXPECT_FLOAT_EQ(again.train.augment.noise_prob, 0.25f);
  EXPECT_FALSE(again.prune.enabled);
}

TEST(Config, BadBasesNameTheFile) {
  test::TempDir dir;
  const auto expect_load_error = [](const std::string& path, std::vector<std::string> words) {
    try {
      load_config(path);
      FAIL() << "no error for " << path;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      for (auto& w : words) EXPECT_NE(msg.find(w), std::string::npos) << w << " in: " << msg;
    }
  };
  const std::string a = dir.file("a.toml"), b = dir.file("b.toml");
  write_file_atomic(a, "base = \"b.toml\"\n");
  write_file_atomic(b, "base = \"a.toml\"\n");
  expect_load_error(a, {b, "cycle", "a.toml -> b.toml -> a.toml"});
  write_file_atomic(a, "base = \"missing.toml\"\n");
  expect_load_error(a, {a, "base config", "missing.toml", "cannot be read"});
  write_file_atomic(a, "base = 3\n");
  expect_load_error(a, {a, "base must be the path of a config file"});
  write_file_atomic(a, "base = \"b.toml\"\n");
  write_file_atomic(b, std::string(kNet) + "[train]\nepochs = -1\n");
  expect_load_error(a, {"train.epochs"});
  write_file_atomic(b, "[train\n");
  expect_load_error(a, {b, "syntax"});  // a syntax error names the base
  expect_error("base = \"x.toml\"\n" + std::string(kNet), {"base", "from a file"});
}

TEST(Config, MissingFile) {
  EXPECT_THROW(load_config("/nonexistent/x.toml"), InputError);
}

}  // namespace
}  // namespace tkws
