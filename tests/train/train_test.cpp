#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "../common/real_data.h"
#include "tinykws/audio/background.h"
#include "tinykws/audio/clips.h"
#include "tinykws/audio/dataset.h"
#include "tinykws/audio/level.h"
#include "tinykws/audio/wav.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/config/config.h"
#include "tinykws/format/tkws.h"
#include "tinykws/frontend/frontend.h"
#include "tinykws/runtime/pipeline.h"
#include "tinykws/train/feature_set.h"
#include "tinykws/train/network.h"
#include "tinykws/train/trainer.h"
#include "train_fixture.h"

namespace fs = std::filesystem;

namespace tkws {
namespace {

// A small but complete recipe: every layer kind, augmentation and masking on, EMA on.
const char* kTinyConfig = R"(
[frontend]
frame_length = 480
frame_step = 320
fft_length = 512
num_mel_bins = 20
upper_hz = 4000
num_mfcc = 8

[model]
layers = [
  { type = "conv", filters = 8, kernel = [5, 3], stride = 2, bias = false }, { type = "bn" },
  { type = "relu" },
  { type = "dwconv", kernel = 3 }, { type = "bn" }, { type = "relu" },
  { type = "pwconv", filters = 8 }, { type = "bn" }, { type = "relu" },
  { type = "maxpool", kernel = 2 }, { type = "avgpool", kernel = 2, padding = "same" },
  { type = "dropout", rate = 0.1 }, { type = "gap" }, { type = "dense" }, { type = "softmax" } ]

[train]
epochs = 4
batch_size = 16
lr_initial = 0.01
lr_final = 0.001
ema_decay = 0.9
label_smoothing = 0.05
threads = 1

[train.augment]
time_shift_ms = 50
noise_prob = 0.5
gain_db_min = -3
gain_db_max = 3
time_masks = 1
time_mask_max = 3
freq_masks = 1
freq_mask_max = 2
speed_min = 0.9
speed_max = 1.1
)";

class TrainTest : public testing::SynthTrainSuite<10, 3, 3> {
 protected:
  static void SetUpTestSuite() { make("train"); }
  static TrainResult run(const Config& c, const std::string& out, int stop_after = 0,
                         bool resume = false) {
    return train(c, out, stop_after, resume);
  }
};

TEST_F(TrainTest, WritesRunFolderAndLearns) {
  Config c = parse_config(kTinyConfig);
  std::string out = root_ + "/basic";
  TrainResult r = run(c, out);
  EXPECT_TRUE(fs::exists(out + "/model.tkws"));
  EXPECT_TRUE(fs::exists(out + "/metrics.json"));
  EXPECT_TRUE(fs::exists(out + "/checkpoint.pt"));
  ASSERT_EQ(r.history.size(), 4u);
  EXPECT_GE(r.best_val_acc, 0.8) << "synthetic chirps are easy: the model must learn them";
  // The runtime on the exported file agrees with libtorch on validation accuracy.
  EXPECT_NEAR(r.runtime_val_acc, r.best_val_acc, 1.0 / 18 + 1e-9);
  Model m = read_model(out + "/model.tkws");
  EXPECT_EQ(m.labels, (std::vector<std::string>{"down", "up"}));
  EXPECT_EQ(m.norm_mean.size(), 8u);
  EXPECT_EQ(m.ops.back().type, OpType::kSoftmax);
}

TEST_F(TrainTest, SameSeedGivesByteIdenticalModel) {
  Config c = parse_config(kTinyConfig);
  run(c, root_ + "/det1");
  run(c, root_ + "/det2");
  EXPECT_EQ(read_text_file(root_ + "/det1/model.tkws"), read_text_file(root_ + "/det2/model.tkws"));
  c.train.seed = 7;
  run(c, root_ + "/det3");
  EXPECT_NE(read_text_file(root_ + "/det1/model.tkws"), read_text_file(root_ + "/det3/model.tkws"));
}

TEST_F(TrainTest, ResumeAfterKillGivesTheSameModel) {
  Config c = parse_config(kTinyConfig);
  run(c, root_ + "/full");
  TrainResult part = run(c, root_ + "/killed", /*stop_after=*/2);
  EXPECT_TRUE(part.interrupted);
  EXPECT_FALSE(fs::exists(root_ + "/killed/model.tkws"));
  TrainResult rest = run(c, root_ + "/killed", 0, /*resume=*/true);
  EXPECT_EQ(rest.history.size(), 4u);
  EXPECT_EQ(read_text_file(root_ + "/full/model.tkws"),
            read_text_file(root_ + "/killed/model.tkws"));
  // A different config cannot resume that checkpoint.
  Config other = c;
  other.train.seed = 3;
  EXPECT_THROW(run(other, root_ + "/killed", 0, true), InputError);
}

// [distill] teacher = "self": a dense teacher is trained first in OUT/teacher, then the
// student learns from its soft targets; still deterministic.
TEST_F(TrainTest, SelfDistillationTrainsTeacherThenStudent) {
  Config c = parse_config(std::string(kTinyConfig) +
                          "[distill]\nteacher = \"self\"\nteacher_width = 2.0\nalpha = 0.7\n");
  TrainResult r = run(c, root_ + "/kd1");
  EXPECT_TRUE(fs::exists(root_ + "/kd1/teacher/model.tkws"));
  Model teacher = read_model(root_ + "/kd1/teacher/model.tkws");
  Model student = read_model(root_ + "/kd1/model.tkws");
  EXPECT_EQ(teacher.tensors[0].shape[0], 2 * student.tensors[0].shape[0]);  // 16 vs 8 filters
  EXPECT_GE(r.best_val_acc, 0.8);
  run(c, root_ + "/kd2");
  EXPECT_EQ(read_text_file(root_ + "/kd1/model.tkws"), read_text_file(root_ + "/kd2/model.tkws"));
  // A teacher file whose front end differs is refused.
  Config other = parse_config(std::string(kTinyConfig) + "[distill]\nteacher = \"" + root_ +
                              "/kd1/model.tkws\"\n");
  other.frontend.num_mfcc = 6;
  EXPECT_THROW(run(other, root_ + "/kd3"), InputError);
}

// init_from_teacher: the student's first epoch starts from the teacher's selected weights,
// so it validates far better than the same student from a random init.
TEST_F(TrainTest, StudentCanStartFromTheTeachersWeights) {
  const std::string kd = std::string(kTinyConfig) + "[distill]\nteacher = \"self\"\n";
  Config from_teacher = parse_config(kd + "init_from_teacher = true\n");
  Config scratch = parse_config(kd);
  run(from_teacher, root_ + "/init");
  run(scratch, root_ + "/scratch");
  auto first_val_loss = [](const std::string& dir) {
    std::ifstream in(dir + "/metrics.json");
    nlohmann::json m = nlohmann::json::parse(in);
    return m.at("history").at(0).at("val_loss").get<double>();
  };
  const double teacher = first_val_loss(root_ + "/init/teacher");
  EXPECT_LT(first_val_loss(root_ + "/init"), first_val_loss(root_ + "/scratch"));
  EXPECT_LT(first_val_loss(root_ + "/init"), teacher);  // a trained start beats epoch 1
  // A teacher of another width cannot be the starting point.
  EXPECT_THROW(parse_config(kd + "teacher_width = 2.0\ninit_from_teacher = true\n"), InputError);
}

TEST_F(TrainTest, BadDataIsInputError) {
  Config c = parse_config(kTinyConfig);
  fs::create_directories(root_ + "/empty");
  TrainOptions o;
  o.data_dirs = {root_ + "/empty"};
  o.out_dir = root_ + "/o";
  o.progress = false;
  EXPECT_THROW(train_model(c, o), InputError);
  c.train.labels = {"up", "left"};
  o.data_dirs = {data_};
  EXPECT_THROW(train_model(c, o), InputError);
}

TEST(Augment, SpeedPerturbResamplesAboutTheCentre) {
  const int n = 1601;  // centre sample 800
  std::vector<float> id(n);
  for (int i = 0; i < n; ++i) id[i] = std::sin(0.01f * i) + 0.001f * i;
  std::vector<float> same = id;
  speed_perturb(same, 1.0);
  EXPECT_EQ(same, id);

  std::vector<float> impulse(n, 0.0f);
  impulse[800 + 200] = 1.0f;    // 200 samples after the centre
  speed_perturb(impulse, 2.0);  // twice as fast: 100 samples after it, the rest silent
  for (int i = 0; i < n; ++i) EXPECT_FLOAT_EQ(impulse[i], i == 900 ? 1.0f : 0.0f) << i;

  // A sine at 1 kHz (16 kHz) played 1.25x as fast is a 1.25 kHz sine about the centre, with
  // silence at the ends (they come from outside the clip); slowed to 0.5x, the middle half
  // of the clip fills it.
  std::vector<float> tone(n);
  for (int i = 0; i < n; ++i) tone[i] = std::sin(2 * M_PI * 1000.0 * (i - 800) / 16000.0);
  std::vector<float> up = tone;
  speed_perturb(up, 1.25);
  double err = 0;
  for (int i = 0; i < n; ++i)
    if (std::abs(i - 800) <= 640)
      err = std::max(err, std::abs(up[i] - std::sin(2 * M_PI * 1250.0 * (i - 800) / 16000.0)));
    else
      EXPECT_EQ(up[i], 0.0f) << i;
  EXPECT_LT(err, 0.05);  // linear interpolation of a 12.8-samples-per-cycle tone
  std::vector<float> slow = tone;
  speed_perturb(slow, 0.5);
  EXPECT_FLOAT_EQ(slow[0], tone[400]);
  EXPECT_FLOAT_EQ(slow[n - 1], tone[1200]);
  EXPECT_NEAR(slow[800 + 16], tone[800 + 8], 1e-6);
}

// Time shift, gain and white noise: the draws of the augmentation's main stream.
AugmentConfig shift_gain_noise(float noise_prob) {
  AugmentConfig a;
  a.time_shift_ms = 50;
  a.gain_db_min = -6;
  a.gain_db_max = 6;
  a.noise_prob = noise_prob;
  return a;
}

TEST(Augment, SpeedDrawsLeaveTheOtherDrawsUnchanged) {
  const AugmentConfig a = shift_gain_noise(1.0f);
  std::vector<float> clip(16000);
  for (int i = 0; i < 16000; ++i) clip[i] = 0.3f * std::sin(0.05f * i);
  AugmentConfig fixed = a;  // a fixed factor: the speed stream's draw does not matter
  fixed.speed_min = fixed.speed_max = 1.2f;
  std::vector<float> with = clip, without = clip;
  augment_waveform(with, fixed, 16000, 77);
  speed_perturb(without, 1.2f);
  augment_waveform(without, a, 16000, 77);
  EXPECT_EQ(with, without);

  AugmentConfig range = a;  // a range: the factor is drawn, the same for the same seed
  range.speed_min = 0.8f;
  range.speed_max = 1.2f;
  std::vector<float> r1 = clip, r2 = clip, r3 = clip;
  augment_waveform(r1, range, 16000, 5);
  augment_waveform(r2, range, 16000, 5);
  augment_waveform(r3, range, 16000, 6);
  EXPECT_EQ(r1, r2);
  EXPECT_NE(r1, r3);
  EXPECT_TRUE(range.waveform());
}

TEST(Augment, ReverbOnAShareOfClipsFromItsOwnStream) {
  const AugmentConfig a = shift_gain_noise(0.5f);
  std::vector<float> clip(16000, 0.0f);
  for (int i = 6000; i < 10000; ++i) clip[i] = 0.3f * std::sin(0.05f * i);
  // A faint tail (direct-to-reverberant ratio 40 dB) changes the clip by little: the other
  // draws (shift, gain, noise) are the ones they are without reverberation.
  AugmentConfig faint = a;
  faint.reverb_prob = 1.0f;
  faint.reverb_drr_db_min = faint.reverb_drr_db_max = 40.0f;
  EXPECT_TRUE(faint.waveform());
  std::vector<float> dry = clip, wet = clip;
  augment_waveform(dry, a, 16000, 11);
  augment_waveform(wet, faint, 16000, 11);
  EXPECT_NE(dry, wet);
  double diff = 0.0, peak = 0.0;
  for (size_t i = 0; i < clip.size(); ++i)
    diff = std::max(diff, std::fabs(double{dry[i]} - wet[i])),
    peak = std::max(peak, std::fabs(double{dry[i]}));
  EXPECT_LT(diff, 0.05 * peak);
  // reverb_prob = 0.5: about half the clips are reverberated, the same ones for the same seeds.
  AugmentConfig half = a;
  half.reverb_prob = 0.5f;
  half.reverb_drr_db_min = half.reverb_drr_db_max = 0.0f;
  int changed = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    std::vector<float> d = clip, r1 = clip, r2 = clip;
    augment_waveform(d, a, 16000, seed);
    augment_waveform(r1, half, 16000, seed);
    augment_waveform(r2, half, 16000, seed);
    EXPECT_EQ(r1, r2);
    changed += d != r1;
  }
  EXPECT_GT(changed, 35);
  EXPECT_LT(changed, 65);
}

TEST(Augment, BackgroundAtAnSnrBelowTheClipsSpeech) {
  // A recording of white noise; a clip with a word (a tone burst) in its middle 400 ms.
  const std::string dir = testing::temp_dir("bg_snr");
  std::mt19937 rng(3);
  std::normal_distribution<float> gauss(0.0f, 0.1f);
  std::vector<float> noise(48000);
  for (float& v : noise) v = gauss(rng);
  write_wav_pcm16(dir + "/noise.wav", noise, 16000);
  BackgroundNoise bg({dir + "/noise.wav"}, 16000, 16000, dir);
  std::vector<float> clip(16000, 0.0f);
  for (int i = 6000; i < 12400; ++i) clip[i] = 0.05f * std::sin(0.2f * i);
  const double speech = speech_power(clip.data(), clip.size(), 16000);

  AugmentConfig a;
  a.background_frequency = 1.0f;
  a.background_level = AugmentConfig::BackgroundLevel::kSnr;
  a.background_snr_db_min = 10.0f;
  a.background_snr_db_max = 20.0f;
  double lo = 1e9, hi = -1e9;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    std::vector<float> x = clip;
    augment_waveform(x, a, 16000, seed, &bg);
    double pn = 0.0;  // the added noise, measured where the clip is silent
    for (int i = 0; i < 6000; ++i) pn += static_cast<double>(x[i]) * x[i];
    const double snr = 10.0 * std::log10(speech / (pn / 6000));
    lo = std::min(lo, snr), hi = std::max(hi, snr);
    std::vector<float> again = clip;  // deterministic from the seed
    augment_waveform(again, a, 16000, seed, &bg);
    EXPECT_EQ(x, again);
  }
  // Noise windows are not perfectly stationary over 375 ms: allow 0.5 dB.
  EXPECT_GT(lo, 9.5);
  EXPECT_LT(hi, 20.5);
  EXPECT_GT(hi - lo, 5.0) << "the SNR is drawn over the range";

  // An all-zero clip has no speech level: it gets the volume draw instead.
  std::vector<float> zeros(16000, 0.0f);
  a.background_volume = 0.0f;
  augment_waveform(zeros, a, 16000, 1, &bg);
  EXPECT_EQ(zeros, std::vector<float>(16000, 0.0f));
  // Volume mode ignores the clip's level: the same noise is added at any clip gain.
  AugmentConfig v;
  v.background_frequency = 1.0f;
  v.background_volume = 0.1f;
  std::vector<float> quiet = clip, loud = clip;
  for (float& s : loud) s *= 8.0f;
  augment_waveform(quiet, v, 16000, 9, &bg);
  augment_waveform(loud, v, 16000, 9, &bg);
  double added = 0.0;
  for (int i = 0; i < 16000; ++i) {
    EXPECT_NEAR(quiet[i] - clip[i], loud[i] - 8.0f * clip[i], 1e-6) << i;
    added += std::abs(quiet[i] - clip[i]);
  }
  EXPECT_GT(added, 0.0);
  std::filesystem::remove_all(dir);
}

TEST(Augment, VtlpWarpsMelBandsAlongFrequency) {
  FrontendConfig fe;
  fe.kind = FeatureKind::kLogMel;
  fe.num_mel_bins = 40;
  const int frames = 3, bands = 40;
  std::vector<float> x(frames * bands);
  for (int t = 0; t < frames; ++t)
    for (int k = 0; k < bands; ++k) x[t * bands + k] = static_cast<float>(k == 20 ? 10 : 0);
  std::vector<float> same = x;
  warp_mel_bands(same.data(), frames, fe, 1.0);
  EXPECT_EQ(same, x);
  // factor > 1 (a shorter vocal tract): the peak moves to a higher band, < 1 to a lower one;
  // every frame alike.
  auto peak = [&](const std::vector<float>& v, int t) {
    return static_cast<int>(std::max_element(v.begin() + t * bands, v.begin() + (t + 1) * bands) -
                            (v.begin() + t * bands));
  };
  std::vector<float> up = x, down = x;
  warp_mel_bands(up.data(), frames, fe, 1.15);
  warp_mel_bands(down.data(), frames, fe, 0.87);
  for (int t = 0; t < frames; ++t) {
    EXPECT_GT(peak(up, t), 20) << t;
    EXPECT_LT(peak(down, t), 20) << t;
  }
  // Band centre f_k takes the value at f_k / factor: with the mel scale nearly logarithmic
  // above 700 Hz, a factor of 1.15 shifts band 20 (~1.2 kHz) by a band or two.
  EXPECT_LE(peak(up, 0), 23);
  EXPECT_GE(peak(down, 0), 17);
  // A constant row stays constant (interpolation and clamping only).
  std::vector<float> flat(bands, 3.5f);
  warp_mel_bands(flat.data(), 1, fe, 1.2);
  for (float v : flat) EXPECT_FLOAT_EQ(v, 3.5f);
  // The factor: uniform in the range, the same for the same stream.
  AugmentConfig a;
  a.vtlp_min = 0.9f;
  a.vtlp_max = 1.1f;
  double lo = 2, hi = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const double f = vtlp_factor(a, seed);
    EXPECT_EQ(f, vtlp_factor(a, seed));
    lo = std::min(lo, f), hi = std::max(hi, f);
  }
  EXPECT_GE(lo, 0.9 - 1e-6);
  EXPECT_LE(hi, 1.1 + 1e-6);
  EXPECT_GT(hi - lo, 0.15);
  EXPECT_TRUE(a.vtlp() && a.per_clip());
  EXPECT_FALSE(a.waveform());
}

TEST(Network, KernelLargerThanInputIsInputError) {
  Config c = parse_config(R"(
[model]
layers = [ { type = "conv", filters = 4, kernel = 60, padding = "valid" }, { type = "gap" },
           { type = "dense" } ])");
  EXPECT_THROW(KwsNet(c.model, 49, 10, 2), InputError);
}

// ---- libtorch vs the tinykws runtime on the presets' networks -----------------------------

// The up / down folder of the real data (tests/common/real_data.h), empty when there is none.
std::string real_data_dir() {
  return testing::updown_data_dir();
}

// Random weights, and BN statistics made non-trivial, for a preset's network; exports it and
// checks the runtime's probabilities against libtorch's on `clips`.
void compare_runtime_with_torch(const std::string& preset,
                                const std::vector<std::vector<float>>& clips) {
  SCOPED_TRACE(preset);
  Config c = load_config(std::string(TINYKWS_SOURCE_DIR) + "/configs/" + preset + ".toml");
  const auto& fe = c.frontend;
  const int frames = fe.num_frames(), coeffs = fe.num_features(), n = clips.size();
  torch::manual_seed(11);
  KwsNet net(c.model, frames, coeffs, 2);
  {
    torch::NoGradGuard g;
    for (auto& b : net->named_buffers())
      if (b.key().find("running_mean") != std::string::npos)
        b.value().uniform_(-0.5, 0.5);
      else if (b.key().find("running_var") != std::string::npos)
        b.value().uniform_(0.5, 2.0);
    for (auto& p : net->named_parameters())
      if (p.key().find("bias") != std::string::npos) p.value().uniform_(-0.3, 0.3);
  }
  net->eval();
  std::vector<float> feats = extract_features(clips, fe, nullptr, 0, 0, 2);
  FeatureStats st = compute_stats(feats, n, frames, coeffs);
  normalize(feats, st, n, frames, coeffs);
  auto logits = net->forward(torch::from_blob(feats.data(), {n, 1, frames, coeffs}));
  auto probs = torch::softmax(logits, 1).contiguous();

  Model m;
  m.frontend = fe;
  m.labels = {"down", "up"};
  m.norm_mean = st.mean;
  m.norm_inv_std = st.inv_std;
  net->export_to(m);
  Model back = parse_model(serialize_model(m).data(), serialize_model(m).size(), "mem");
  KwsPipeline pipe;
  ASSERT_TRUE(pipe.create(back).ok());
  double max_err = 0;
  std::vector<float> p(2);
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(pipe.run(clips[i].data(), p.data()).ok());
    for (int k = 0; k < 2; ++k)
      max_err = std::max(max_err, std::abs(double(p[k]) - probs[i][k].item<double>()));
  }
  std::printf("[ %s ] runtime vs libtorch: max |dp| = %.2e over %d clips\n", preset.c_str(),
              max_err, n);
  EXPECT_LE(max_err, 1e-4);
}

TEST(RuntimeVsTorch, PresetsOnRealClips) {
  std::string dir = real_data_dir();
  if (dir.empty()) GTEST_SKIP() << "no ../shared/data/speech_commands_updown (set TINYKWS_DATA)";
  Dataset ds = scan_dataset(dir);
  auto refs = ds.select(Split::kVal);
  refs.resize(std::min<size_t>(refs.size(), 64));
  for (auto preset : {"seed-a", "seed-b", "course-dscnn"}) {
    Config c = load_config(std::string(TINYKWS_SOURCE_DIR) + "/configs/" + preset + ".toml");
    auto clips = load_clips(refs, 16000, c.frontend.clip_samples, 2);
    compare_runtime_with_torch(preset, clips.samples);
  }
}

TEST(RuntimeVsTorch, PresetsOnSyntheticClips) {
  std::mt19937_64 rng(5);
  std::vector<std::vector<float>> clips;
  for (int i = 0; i < 16; ++i) clips.push_back(testing::synth_word(i % 2, rng));
  for (auto preset : {"seed-a", "seed-b", "course-dscnn", "default", "mfcc-64"})
    compare_runtime_with_torch(preset, clips);
}

}  // namespace
}  // namespace tkws
