// Golden vectors: the C++ front end against an independent float64 NumPy implementation of
// docs/frontend.md (tests/golden/make_golden.py), on one shared 16000-sample int16 clip.
//
// Tolerance 1e-3 (absolute, on log-mel and MFCC values of magnitude up to ~60): the C++ path
// runs in float32 (FFT, mel weights, sums, DCT), the reference in float64. An error e relative
// to a band's mel value becomes an absolute error e after ln(). Two float32 sources:
//  - the FFT: its error is ~1e-7 of the frame's energy, so a band 60 dB below the frame's peak
//    sees ~1e-4; the clip's white-noise floor keeps every band above that (or exactly silent,
//    where both sides give ln(1e-6)).
//  - the mel matrix, which tf (and docs/frontend.md) computes in float32: a weight at the very
//    foot of a triangle is a difference of two nearly equal mel values. In report1 (100 bands
//    over 20-1000 Hz) one band's only bin has weight 0.0038, and float32 gives it a relative
//    error of 7.9e-4 (reproduced by a float32 NumPy emulation of the matrix): that band sets
//    report1's log-mel error of ~8e-4. Every other config stays below ~1.2e-4.
// Measured errors are printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tinykws/common/npy.h"
#include "tinykws/frontend/frontend.h"

namespace tkws {
namespace {

const std::string kGoldenDir = std::string(TINYKWS_SOURCE_DIR) + "/tests/golden/";
constexpr double kTolerance = 1e-3;

// frontend_<name>_params.npy layout (make_golden.py PARAM_FIELDS): sample_rate, clip_samples,
// frame_length, frame_step, fft_length, num_mel_bins, lower_hz, upper_hz, num_mfcc, spectrum
// (0 = magnitude, 1 = power), pcm_divisor.
FrontendConfig load_config(const std::string& name) {
  const auto p = read_npy<float>(kGoldenDir + "frontend_" + name + "_params.npy");
  EXPECT_EQ(p.size(), 11u);
  FrontendConfig c;
  c.sample_rate = static_cast<int>(p.data[0]);
  c.clip_samples = static_cast<int>(p.data[1]);
  c.frame_length = static_cast<int>(p.data[2]);
  c.frame_step = static_cast<int>(p.data[3]);
  c.fft_length = static_cast<int>(p.data[4]);
  c.num_mel_bins = static_cast<int>(p.data[5]);
  c.lower_hz = p.data[6];
  c.upper_hz = p.data[7];
  c.num_mfcc = static_cast<int>(p.data[8]);
  c.spectrum = p.data[9] == 0.0f ? SpectrumKind::kMagnitude : SpectrumKind::kPower;
  c.pcm_divisor = p.data[10];
  return c;
}

// The clip as the audio reader delivers it: int16 / 32768.
std::vector<float> load_clip() {
  const auto clip = read_npy<int16_t>(kGoldenDir + "frontend_clip.npy");
  std::vector<float> x(clip.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = clip.data[i] / 32768.0f;
  return x;
}

// Runs the front end and returns max |out - golden|; checks shapes on the way.
double max_error(FrontendConfig cfg, FeatureKind kind, const std::string& file) {
  cfg.kind = kind;
  EXPECT_EQ(cfg.check(), "");
  Frontend fe(cfg);
  EXPECT_TRUE(fe.ok());
  const auto golden = read_npy<float>(kGoldenDir + file);
  const std::vector<float> x = load_clip();
  EXPECT_EQ(x.size(), static_cast<size_t>(cfg.clip_samples));
  EXPECT_EQ(golden.shape, (std::vector<size_t>{static_cast<size_t>(fe.num_frames()),
                                               static_cast<size_t>(fe.num_features())}));
  const size_t n = static_cast<size_t>(fe.num_frames()) * fe.num_features();
  if (n == 0 || golden.size() != n) return INFINITY;
  std::vector<float> out(n);
  fe.compute(x.data(), out.data());
  double err = 0.0;
  for (size_t i = 0; i < out.size(); ++i) {
    const double e = std::fabs(static_cast<double>(out[i]) - golden.data[i]);
    err = std::isnan(e) ? INFINITY : std::max(err, e);
  }
  return err;
}

class GoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenTest, LogMelAndMfccMatchNumpyReference) {
  const std::string name = GetParam();
  const FrontendConfig cfg = load_config(name);
  const double e_logmel = max_error(cfg, FeatureKind::kLogMel, "frontend_" + name + "_logmel.npy");
  const double e_mfcc = max_error(cfg, FeatureKind::kMfcc, "frontend_" + name + "_mfcc.npy");
  std::printf("[ golden   ] %-9s L=%d S=%d N=%d M=%d K=%d: max|err| logmel %.3g, mfcc %.3g\n",
              name.c_str(), cfg.frame_length, cfg.frame_step, cfg.effective_fft_length(),
              cfg.num_mel_bins, cfg.num_mfcc, e_logmel, e_mfcc);
  EXPECT_LE(e_logmel, kTolerance) << name;
  EXPECT_LE(e_mfcc, kTolerance) << name;
}

// course: 640/320/fft 640 (mixed radix); report1/report2: the reference reports' settings;
// odd_power: odd frame (401) with power spectrum; odd_fft: odd fft_length (complex FFT path)
// and pcm_divisor 32767.
INSTANTIATE_TEST_SUITE_P(Configs, GoldenTest,
                         ::testing::Values("course", "report1", "report2", "odd_power", "odd_fft"));

TEST(GoldenConfigs, AreTheDocumentedOnes) {
  const FrontendConfig course = load_config("course");
  EXPECT_EQ(course.frame_length, 640);
  EXPECT_EQ(course.frame_step, 320);
  EXPECT_EQ(course.fft_length, 640);
  EXPECT_EQ(course.num_mel_bins, 40);
  EXPECT_EQ(course.num_mfcc, 10);
  EXPECT_EQ(course.num_frames(), 49);
  const FrontendConfig r1 = load_config("report1");
  EXPECT_EQ(r1.effective_fft_length(), 1024);
  EXPECT_EQ(r1.num_mel_bins, 100);
  EXPECT_EQ(r1.upper_hz, 1000.0f);
  const FrontendConfig r2 = load_config("report2");
  EXPECT_EQ(r2.effective_fft_length(), 512);
  // Report 2 asks for 20 MFCCs from 16 bands; tf's [..., :20] slice yields 16.
  EXPECT_EQ(r2.num_mfcc, 16);
  EXPECT_EQ(load_config("odd_power").effective_fft_length(), 512);
  EXPECT_EQ(load_config("odd_fft").effective_fft_length() % 2, 1);
}

}  // namespace
}  // namespace tkws
