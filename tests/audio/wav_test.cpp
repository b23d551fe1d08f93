// read_audio / resample / fit_length / write_wav_pcm16 on fixtures generated at test time.
#include "tinykws/audio/wav.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "audio_test_util.h"
#include "tinykws/common/error.h"

namespace tkws {
namespace {

using test::TempDir;

std::vector<float> sine(double freq, double amp, int rate, int n) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) x[i] = float(amp * std::sin(2 * std::numbers::pi * freq * i / rate));
  return x;
}

std::vector<short> to_short(const std::vector<float>& x) {
  std::vector<short> s(x.size());
  for (size_t i = 0; i < x.size(); ++i) s[i] = short(std::lrint(x[i] * 32767.0));
  return s;
}

// |DFT| of x at `freq` Hz (Goertzel), any real frequency.
double dft_mag(const std::vector<float>& x, double freq, int rate) {
  const double w = 2 * std::numbers::pi * freq / rate, c = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (float v : x) {
    const double s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return std::sqrt(s1 * s1 + s2 * s2 - c * s1 * s2);
}

// Frequency in whole Hz, within [lo, hi], of the largest DFT magnitude.
int peak_hz(const std::vector<float>& x, int rate, int lo, int hi) {
  int best = lo;
  double best_mag = -1;
  for (int f = lo; f <= hi; ++f) {
    const double m = dft_mag(x, f, rate);
    if (m > best_mag) best_mag = m, best = f;
  }
  return best;
}

int zero_crossings(const std::vector<float>& x, size_t from, size_t to) {
  int n = 0;
  for (size_t i = from + 1; i < to; ++i) n += (x[i - 1] < 0) != (x[i] < 0);
  return n;
}

double rms(const std::vector<float>& x, size_t from, size_t to) {
  double acc = 0;
  for (size_t i = from; i < to; ++i) acc += double(x[i]) * x[i];
  return std::sqrt(acc / double(to - from));
}

// Expects read_audio(path) to throw InputError whose message holds the path and `needle`.
void expect_input_error(const std::string& path, const std::string& needle) {
  try {
    read_audio(path, 16000);
    ADD_FAILURE() << "no InputError for " << path;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

TEST(ReadAudio, Int16ScalesBySample32768Exactly) {
  // Written with libsndfile directly, so this checks libsndfile's default read normalisation.
  TempDir dir;
  const std::vector<short> s = {-32768, -32767, -16384, -1, 0, 1, 2, 12345, 16384, 32767};
  const std::string path = dir.file("scale.wav");
  test::write_raw_pcm16(path, s, 1, 16000);
  AudioInfo info;
  const auto x = read_audio(path, 16000, &info);
  ASSERT_EQ(x.size(), s.size());
  for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(x[i], float(s[i]) / 32768.0f) << "s=" << s[i];
  EXPECT_EQ(x[0], -1.0f);
  EXPECT_EQ(info.sample_rate, 16000);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.frames, static_cast<long long>(s.size()));
}

TEST(WriteWav, Pcm16RoundTripIsExactAndClips) {
  TempDir dir;
  std::vector<float> x;
  for (int k : {-32768, -20000, -1, 0, 1, 777, 32767}) x.push_back(float(k) / 32768.0f);
  const std::string path = dir.file("rt.wav");
  write_wav_pcm16(path, x, 16000);
  EXPECT_EQ(read_audio(path, 16000), x);

  write_wav_pcm16(path, {1.5f, -2.0f, 1.0f, -1.0f}, 16000);
  const auto y = read_audio(path, 16000);
  ASSERT_EQ(y.size(), 4u);
  EXPECT_EQ(y[0], 32767.0f / 32768.0f);
  EXPECT_EQ(y[1], -1.0f);
  EXPECT_EQ(y[2], 32767.0f / 32768.0f);
  EXPECT_EQ(y[3], -1.0f);
}

TEST(ReadAudio, StereoIsMixedDownToTheMean) {
  TempDir dir;
  const std::vector<short> lr = {1000, 3000, -32768, 32767, 0, -2, 100, 100};  // [4 frames, 2]
  const std::string path = dir.file("stereo.wav");
  test::write_raw_pcm16(path, lr, 2, 16000);
  AudioInfo info;
  const auto x = read_audio(path, 16000, &info);
  EXPECT_EQ(info.channels, 2);
  EXPECT_EQ(info.frames, 4);
  ASSERT_EQ(x.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const float want = float((double(lr[2 * i]) + lr[2 * i + 1]) / 2 / 32768.0);
    EXPECT_FLOAT_EQ(x[i], want) << i;
  }
}

TEST(ReadAudio, FloatWavIsPassedThroughAndThreeChannelsAveraged) {
  TempDir dir;
  const std::string path = dir.file("float3.wav");
  // [2 frames, 3 channels]
  test::write_raw_float(path, {0.25f, -0.5f, 0.75f, 0.1f, 0.2f, 0.3f}, 3, 16000);
  const auto x = read_audio(path, 16000);
  ASSERT_EQ(x.size(), 2u);
  EXPECT_FLOAT_EQ(x[0], 0.5f / 3);
  EXPECT_FLOAT_EQ(x[1], 0.2f);

  const std::string mono = dir.file("float1.wav");
  test::write_raw_float(mono, {0.125f, -1.5f, 1.25f}, 1, 16000);  // no clipping, no rescale
  EXPECT_EQ(read_audio(mono, 16000), (std::vector<float>{0.125f, -1.5f, 1.25f}));
}

TEST(ReadAudio, Resamples8kTo16kKeepingLengthRatioAndFrequency) {
  TempDir dir;
  const std::string path = dir.file("sine8k.wav");
  test::write_raw_pcm16(path, to_short(sine(440, 0.5, 8000, 8000)), 1, 8000);
  AudioInfo info;
  const auto x = read_audio(path, 16000, &info);
  EXPECT_EQ(info.sample_rate, 8000);
  EXPECT_EQ(info.frames, 8000);
  ASSERT_EQ(x.size(), 16000u);  // 1 s at 16 kHz
  EXPECT_EQ(peak_hz(x, 16000, 50, 4000), 440);
  // 2 crossings per period: 880 in 1 s; away from the edges, 14000 samples = 0.875 s -> 770.
  EXPECT_NEAR(zero_crossings(x, 1000, 15000), 770, 2);
  EXPECT_NEAR(rms(x, 1000, 15000), 0.5 / std::sqrt(2.0), 0.005);  // amplitude kept
}

TEST(ReadAudio, Resamples44k1To16kKeepingLengthRatioAndFrequency) {
  TempDir dir;
  const std::string path = dir.file("sine44k.wav");
  test::write_raw_pcm16(path, to_short(sine(1000, 0.5, 44100, 44100)), 1, 44100);
  AudioInfo info;
  const auto x = read_audio(path, 16000, &info);
  EXPECT_EQ(info.sample_rate, 44100);
  ASSERT_EQ(x.size(), 16000u);
  EXPECT_EQ(peak_hz(x, 16000, 50, 7900), 1000);
  EXPECT_NEAR(zero_crossings(x, 1000, 15000), 1750, 2);
  EXPECT_NEAR(rms(x, 1000, 15000), 0.5 / std::sqrt(2.0), 0.005);

  // Half a second keeps the ratio too.
  const std::string half = dir.file("half44k.wav");
  test::write_raw_pcm16(half, to_short(sine(1000, 0.5, 44100, 22050)), 1, 44100);
  EXPECT_EQ(read_audio(half, 16000).size(), 8000u);
}

TEST(Resample, LengthIsRoundedRatioAndSameRateIsIdentity) {
  const std::vector<float> x(7777, 0.1f);
  EXPECT_EQ(resample(x, 44100, 16000).size(), 2822u);  // 2821.59
  EXPECT_EQ(resample(x, 48000, 16000).size(), 2592u);  // 2592.33
  EXPECT_EQ(resample(x, 8000, 16000).size(), 15554u);
  EXPECT_EQ(resample(x, 16000, 16000), x);
  EXPECT_TRUE(resample({}, 8000, 16000).empty());
  EXPECT_THROW(resample(x, 0, 16000), std::invalid_argument);
  // A constant stays constant away from the edges (unity DC gain).
  const auto y = resample(std::vector<float>(16000, 0.25f), 16000, 8000);
  EXPECT_NEAR(y[4000], 0.25f, 1e-4);
}

TEST(FitLength, ZeroPadsAtTheEndAndCuts) {
  std::vector<float> x = {1, 2, 3};
  fit_length(x, 5);
  EXPECT_EQ(x, (std::vector<float>{1, 2, 3, 0, 0}));
  fit_length(x, 2);
  EXPECT_EQ(x, (std::vector<float>{1, 2}));
  fit_length(x, 2);
  EXPECT_EQ(x, (std::vector<float>{1, 2}));
  fit_length(x, 0);
  EXPECT_TRUE(x.empty());
}

TEST(ReadAudioErrors, MissingFile) {
  TempDir dir;
  expect_input_error((dir.path() / "nope.wav").string(), "not found");
}

TEST(ReadAudioErrors, TextFileRenamedWav) {
  TempDir dir;
  const std::string path = dir.file("up/notes.wav");
  test::write_bytes(path, "these are my notes, not audio\n");
  expect_input_error(path, "not a WAV/audio file (libsndfile: ");
}

TEST(ReadAudioErrors, ZeroByteFile) {
  TempDir dir;
  const std::string path = dir.file("zero.wav");
  test::write_bytes(path, "");
  expect_input_error(path, "not a WAV/audio file");
}

TEST(ReadAudioErrors, TruncatedFileIsReportedWithFrameCounts) {
  TempDir dir;
  const std::string good = dir.file("good.wav");
  write_wav_pcm16(good, sine(440, 0.5, 16000, 16000), 16000);
  const std::string bytes = test::read_bytes(good);
  ASSERT_EQ(bytes.size(), 44u + 32000u);  // canonical 44-byte header + 16000 int16
  const std::string cut = dir.file("up/y.wav");
  test::write_bytes(cut, bytes.substr(0, 44 + 14000));
  expect_input_error(cut, "truncated: header says 16000 frames, file holds 7000");
  // Cut in the middle of a sample: whole frames only.
  test::write_bytes(cut, bytes.substr(0, 44 + 14001));
  expect_input_error(cut, "truncated: header says 16000 frames, file holds 7000");
  // The intact file reads.
  EXPECT_EQ(read_audio(good, 16000).size(), 16000u);
}

TEST(ReadAudioErrors, FileWithZeroFrames) {
  TempDir dir;
  const std::string path = dir.file("empty.wav");
  write_wav_pcm16(path, {}, 16000);
  expect_input_error(path, "no audio (0 frames)");
}

TEST(ReadAudioErrors, HeaderOnlyCutFile) {
  TempDir dir;
  const std::string good = dir.file("good.wav");
  write_wav_pcm16(good, std::vector<float>(100, 0.1f), 16000);
  const std::string path = dir.file("hdr.wav");
  test::write_bytes(path, test::read_bytes(good).substr(0, 44));
  // libsndfile sees 0 frames; either message names the file.
  try {
    read_audio(path, 16000);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(ReadAudioErrors, SampleRateZero) {
  TempDir dir;
  const std::string good = dir.file("good.wav");
  write_wav_pcm16(good, std::vector<float>(100, 0.1f), 16000);
  std::string bytes = test::read_bytes(good);
  for (int i = 24; i < 28; ++i) bytes[size_t(i)] = 0;  // fmt sample rate field
  const std::string path = dir.file("rate0.wav");
  test::write_bytes(path, bytes);
  try {
    read_audio(path, 16000);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

// A header claiming 1 Hz (fuzz/regressions/wav/rate-1hz.wav): resampling its 2000 frames to
// 16 kHz took minutes; now an InputError before any decoding. 1000 Hz is still read.
TEST(ReadAudioErrors, SampleRateOutsideTheSupportedRange) {
  TempDir dir;
  for (int rate : {1, 999, 768001}) {
    const std::string path = dir.file("rate" + std::to_string(rate) + ".wav");
    write_wav_pcm16(path, std::vector<float>(2000, 0.1f), rate);
    try {
      read_audio(path, 16000);
      ADD_FAILURE() << rate << " Hz: no error";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path + ": sample rate " + std::to_string(rate) +
                                           " Hz is outside 1000-768000 Hz"),
                std::string::npos)
          << e.what();
    }
  }
  const std::string ok = dir.file("rate1000.wav");
  write_wav_pcm16(ok, std::vector<float>(100, 0.1f), 1000);
  EXPECT_EQ(read_audio(ok, 16000).size(), 1600u);
}

TEST(ReadAudioErrors, NonFiniteFloatSamples) {
  TempDir dir;
  const std::string path = dir.file("nan.wav");
  test::write_raw_float(path, {0.1f, std::nanf(""), 0.2f}, 1, 16000);
  expect_input_error(path, "non-finite");
}

TEST(ReadAudioErrors, FolderInsteadOfFile) {
  TempDir dir;
  dir.file("sub.wav/x");  // creates the folder sub.wav
  expect_input_error((dir.path() / "sub.wav").string(), "is a folder");
}

}  // namespace
}  // namespace tkws
