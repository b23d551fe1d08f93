// Frontend behaviour: sizes, config validation, silence, allocation-free compute().
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "tinykws/frontend/frontend.h"

// Counts operator new calls so a test can check that compute() allocates nothing; this file
// holds test_frontend's replacements. (kissfft's own allocations use malloc, and only happen in
// kiss_*_alloc, i.e. the constructor: the frontend calls kiss_fft out of place, so it needs no
// scratch buffer.)
#define TINYKWS_ALLOC_COUNTER_DEFINITIONS
#include "../common/alloc_counter.h"

namespace tkws {
namespace {

std::vector<float> noise(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.1f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

TEST(Frontend, CourseFrameCount) {
  FrontendConfig c;  // defaults: 16000 samples, 640 / 320
  EXPECT_EQ(c.num_frames(), 49);
  c.fft_length = 640;
  Frontend fe(c);
  ASSERT_TRUE(fe.ok());
  EXPECT_EQ(fe.num_frames(), 49);
  EXPECT_EQ(fe.num_features(), 10);
  c.kind = FeatureKind::kLogMel;
  EXPECT_EQ(Frontend(c).num_features(), 40);

  // tf.signal.frame without end padding: 1 + (N - L) // S.
  c.frame_length = 1024, c.frame_step = 512;
  EXPECT_EQ(c.num_frames(), 30);
  c.frame_length = 512, c.frame_step = 256;
  EXPECT_EQ(c.num_frames(), 61);
  c.frame_length = 16000, c.frame_step = 1;
  EXPECT_EQ(c.num_frames(), 1);
}

TEST(Frontend, FftLengthDefaultsToNextPowerOfTwo) {
  FrontendConfig c;
  EXPECT_EQ(c.effective_fft_length(), 1024);  // 640 -> 1024
  c.frame_length = 512;
  EXPECT_EQ(c.effective_fft_length(), 512);
  c.frame_length = 401;
  EXPECT_EQ(c.effective_fft_length(), 512);
  EXPECT_EQ(c.num_bins(), 257);
  c.fft_length = 640;
  EXPECT_EQ(c.effective_fft_length(), 640);
}

// Each bad value is rejected with a message that names "frontend.<field>".
TEST(FrontendConfig, CheckRejectsBadValuesNamingTheField) {
  EXPECT_EQ(FrontendConfig{}.check(), "");
  struct Case {
    const char* field;
    void (*mutate)(FrontendConfig&);
  };
  const Case cases[] = {
      {"sample_rate", [](FrontendConfig& c) { c.sample_rate = 0; }},
      {"clip_samples", [](FrontendConfig& c) { c.clip_samples = 0; }},
      {"frame_length", [](FrontendConfig& c) { c.frame_length = 1; }},
      {"frame_length", [](FrontendConfig& c) { c.frame_length = 16001; }},
      {"frame_step", [](FrontendConfig& c) { c.frame_step = 0; }},
      {"fft_length", [](FrontendConfig& c) { c.fft_length = 512; }},  // < frame_length 640
      {"fft_length", [](FrontendConfig& c) { c.fft_length = 896; }},  // 2^7 * 7: radix 7
      {"fft_length", [](FrontendConfig& c) { c.frame_length = 401, c.fft_length = 401; }},
      {"num_mel_bins", [](FrontendConfig& c) { c.num_mel_bins = 0; }},
      {"num_mel_bins", [](FrontendConfig& c) { c.num_mel_bins = 600; }},  // > 513 bins
      {"lower_hz", [](FrontendConfig& c) { c.lower_hz = -1.0f; }},
      {"lower_hz", [](FrontendConfig& c) { c.lower_hz = NAN; }},
      {"upper_hz", [](FrontendConfig& c) { c.upper_hz = 9000.0f; }},  // > Nyquist
      {"upper_hz", [](FrontendConfig& c) { c.upper_hz = 20.0f; }},    // == lower_hz
      {"kind", [](FrontendConfig& c) { c.kind = static_cast<FeatureKind>(7); }},
      {"num_mfcc", [](FrontendConfig& c) { c.num_mfcc = 41; }},
      {"num_mfcc", [](FrontendConfig& c) { c.num_mfcc = 0; }},
      {"spectrum", [](FrontendConfig& c) { c.spectrum = static_cast<SpectrumKind>(9); }},
      {"log_offset", [](FrontendConfig& c) { c.log_offset = 0.0f; }},
      {"log_offset", [](FrontendConfig& c) { c.log_offset = INFINITY; }},
      {"pcm_divisor", [](FrontendConfig& c) { c.pcm_divisor = -1.0f; }},
  };
  for (const Case& k : cases) {
    FrontendConfig c;
    k.mutate(c);
    const std::string msg = c.check();
    EXPECT_NE(msg.find(std::string("frontend.") + k.field), std::string::npos)
        << k.field << ": \"" << msg << "\"";
    Frontend fe(c);
    EXPECT_FALSE(fe.ok()) << k.field;
    EXPECT_EQ(fe.num_frames(), 0);
    EXPECT_EQ(fe.num_features(), 0);
  }
  // fft_length: any 2^a 3^b 5^c >= frame_length (kissfft's allocation-free radices).
  for (int n : {640, 675, 720, 1000, 65536}) {
    FrontendConfig c;
    c.fft_length = n;
    EXPECT_EQ(c.check(), "") << n;
  }
  // num_mfcc is only checked for MFCC output.
  FrontendConfig logmel;
  logmel.kind = FeatureKind::kLogMel;
  logmel.num_mfcc = 0;
  EXPECT_EQ(logmel.check(), "");
  // The documented example message.
  FrontendConfig c;
  c.num_mfcc = 50;
  EXPECT_EQ(c.check(), "frontend.num_mfcc = 50 must be in [1, num_mel_bins = 40]");
}

TEST(FrontendConfig, EqualityComparesEveryField) {
  const FrontendConfig base;
  EXPECT_TRUE(base == FrontendConfig{});
  // One edit per field (13): each makes the configs differ.
  const std::vector<void (*)(FrontendConfig&)> edits = {
      [](FrontendConfig& c) { c.sample_rate = 8000; },
      [](FrontendConfig& c) { c.clip_samples = 8000; },
      [](FrontendConfig& c) { c.frame_length = 480; },
      [](FrontendConfig& c) { c.frame_step = 160; },
      [](FrontendConfig& c) { c.fft_length = 1024; },
      [](FrontendConfig& c) { c.num_mel_bins = 32; },
      [](FrontendConfig& c) { c.lower_hz = 60.0f; },
      [](FrontendConfig& c) { c.upper_hz = 3800.0f; },
      [](FrontendConfig& c) { c.kind = FeatureKind::kLogMel; },
      [](FrontendConfig& c) { c.num_mfcc = 13; },
      [](FrontendConfig& c) { c.spectrum = SpectrumKind::kPower; },
      [](FrontendConfig& c) { c.log_offset = 1e-3f; },
      [](FrontendConfig& c) { c.pcm_divisor = 32767.0f; },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    FrontendConfig c;
    edits[i](c);
    EXPECT_FALSE(c == base) << "edit " << i;
  }
}

TEST(Frontend, SilenceGivesLogOfOffset) {
  FrontendConfig c;
  c.fft_length = 640;
  c.kind = FeatureKind::kLogMel;
  Frontend fe(c);
  ASSERT_TRUE(fe.ok());
  const std::vector<float> zeros(c.clip_samples, 0.0f);
  std::vector<float> out(fe.num_frames() * fe.num_features(), 1.0f);
  fe.compute(zeros.data(), out.data());
  for (float v : out) EXPECT_NEAR(v, std::log(1e-6), 1e-6);

  // MFCC of a constant log-mel row: c0 = sqrt(2/M) * M * ln(1e-6), the rest 0.
  c.kind = FeatureKind::kMfcc;
  Frontend mf(c);
  std::vector<float> m(mf.num_frames() * mf.num_features(), 1.0f);
  mf.compute(zeros.data(), m.data());
  const double c0 = std::sqrt(2.0 / 40) * 40 * std::log(1e-6);
  for (int t = 0; t < mf.num_frames(); ++t) {
    EXPECT_NEAR(m[t * 10], c0, 1e-4);
    for (int k = 1; k < 10; ++k) EXPECT_NEAR(m[t * 10 + k], 0.0, 1e-4);
  }
}

TEST(Frontend, PcmDivisorOnlyScalesTheSpectrum) {
  // s / 32767 instead of s / 32768: every log-mel value moves by ln(32768 / 32767) for |X|.
  FrontendConfig a;
  a.kind = FeatureKind::kLogMel;
  a.log_offset = 1e-30f;  // keep the offset from blurring the exact shift
  FrontendConfig b = a;
  b.pcm_divisor = 32767.0f;
  Frontend fa(a), fb(b);
  const std::vector<float> x = noise(a.clip_samples, 1);
  std::vector<float> oa(fa.num_frames() * fa.num_features()), ob(oa.size());
  fa.compute(x.data(), oa.data());
  fb.compute(x.data(), ob.data());
  for (size_t i = 0; i < oa.size(); ++i)
    EXPECT_NEAR(ob[i] - oa[i], std::log(32768.0 / 32767.0), 1e-5);
}

TEST(Frontend, PowerIsMagnitudeSquared) {
  FrontendConfig a;
  a.kind = FeatureKind::kLogMel;
  a.num_mel_bins = 1;  // one band: ln(sum w |X|^2) vs ln(sum w |X|) differ; use a 1-bin band
  a.lower_hz = 990.0f;
  a.upper_hz = 1010.0f;  // the triangle 990..1010 Hz holds only the 1000 Hz bin (15.6 Hz apart)
  a.log_offset = 1e-30f;
  FrontendConfig p = a;
  p.spectrum = SpectrumKind::kPower;
  Frontend fa(a), fp(p);
  ASSERT_TRUE(fa.ok() && fp.ok());
  const std::vector<float> x = noise(a.clip_samples, 2);
  std::vector<float> oa(fa.num_frames()), op(oa.size());
  fa.compute(x.data(), oa.data());
  fp.compute(x.data(), op.data());
  // ln(w |X|^2) = 2 ln(w |X|) - ln(w): compare after removing the weight.
  const std::vector<float> w = mel_weight_matrix(1, 513, 16000, 990.0f, 1010.0f);
  float wsum = 0.0f, wmax = 0.0f;
  for (float v : w) wsum += v, wmax = std::max(wmax, v);
  ASSERT_GT(wmax, 0.0f);
  ASSERT_EQ(wsum, wmax) << "band must hold a single bin";
  for (size_t t = 0; t < oa.size(); ++t)
    EXPECT_NEAR(op[t], 2.0 * oa[t] - std::log(wmax), 1e-4) << t;
}

TEST(Frontend, ComputeAllocatesNothingAndIsDeterministic) {
  for (int fft : {640, 0, 405}) {
    FrontendConfig c;
    c.fft_length = fft;
    if (fft == 405) c.frame_length = 401;
    Frontend fe(c);
    ASSERT_TRUE(fe.ok()) << c.check();
    const std::vector<float> x = noise(c.clip_samples, 3);
    std::vector<float> o1(fe.num_frames() * fe.num_features()), o2(o1.size());
    AllocCounter allocs;
    fe.compute(x.data(), o1.data());
    fe.compute(x.data(), o2.data());
    EXPECT_EQ(allocs.count(), 0) << "fft_length " << fft;
    EXPECT_EQ(o1, o2);
  }
}

TEST(Frontend, MoveKeepsState) {
  FrontendConfig c;
  c.num_mfcc = 13;
  Frontend a(c);
  Frontend b(std::move(a));
  EXPECT_TRUE(b.ok());
  EXPECT_EQ(b.config().num_mfcc, 13);
  EXPECT_EQ(b.num_features(), 13);
  Frontend d(FrontendConfig{});
  d = std::move(b);
  EXPECT_EQ(d.num_features(), 13);
}

TEST(Frontend, InvalidFrontendKeepsItsConfigAndWritesNothing) {
  FrontendConfig c;
  c.frame_step = 0;
  Frontend fe(c);
  EXPECT_FALSE(fe.ok());
  EXPECT_EQ(fe.config().frame_step, 0);
  std::vector<float> x(c.clip_samples, 0.5f), out(4, 7.0f);
  fe.compute(x.data(), out.data());
  for (float v : out) EXPECT_EQ(v, 7.0f);
}

}  // namespace
}  // namespace tkws
