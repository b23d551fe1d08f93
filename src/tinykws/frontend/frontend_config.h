// Front-end settings: everything needed to turn a clip of PCM samples into the feature
// matrix a model was trained on. Stored verbatim in every .tkws file so the runtime rebuilds
// the exact front end (docs/architecture.md). Plain data, no I/O, no exceptions.
#pragma once
#include <cstdint>
#include <string>

namespace tkws {

enum class FeatureKind : uint8_t {
  kLogMel = 0,  // ln(mel + log_offset), [frames][num_mel_bins]
  kMfcc = 1,    // first num_mfcc DCT-II coefficients of the log-mel, [frames][num_mfcc]
};

enum class SpectrumKind : uint8_t {
  kMagnitude = 0,  // |X| (what the course code uses)
  kPower = 1,      // |X|^2
};

struct FrontendConfig {
  int sample_rate = 16000;   // Hz; clips are resampled to this rate on load
  int clip_samples = 16000;  // samples per clip (1 s); shorter clips zero-padded at the end
  int frame_length = 640;    // samples per STFT frame (40 ms at 16 kHz)
  int frame_step = 320;      // samples between frame starts (20 ms)
  int fft_length = 0;        // 0 = next power of two >= frame_length (tf.signal default);
                             // prime factors 2, 3, 5 only (kissfft allocates otherwise)
  int num_mel_bins = 40;     // mel bands
  float lower_hz = 20.0f;    // lowest band edge, Hz
  float upper_hz = 4000.0f;  // highest band edge, Hz (<= sample_rate / 2)
  FeatureKind kind = FeatureKind::kMfcc;
  int num_mfcc = 10;  // kept coefficients (kind == kMfcc), 1..num_mel_bins
  SpectrumKind spectrum = SpectrumKind::kMagnitude;
  float log_offset = 1e-6f;  // ln(mel + log_offset), docs/frontend.md
  // int16 PCM s becomes s / pcm_divisor. TF decode_wav uses 32768 (default); the course
  // code divided by 32767. Audio is read as s / 32768 and rescaled by 32768 / pcm_divisor.
  float pcm_divisor = 32768.0f;

  // Derived sizes.
  int effective_fft_length() const;  // fft_length, or next pow2 >= frame_length
  int num_bins() const { return effective_fft_length() / 2 + 1; }
  int num_frames() const;  // 1 + (clip_samples - frame_length) / frame_step
  int num_features() const { return kind == FeatureKind::kMfcc ? num_mfcc : num_mel_bins; }

  // Empty string when valid, else a message naming the field, its value and the allowed
  // range (e.g. "frontend.num_mfcc = 50 must be in [1, num_mel_bins = 40]").
  std::string check() const;

  // Convenience for configs given in seconds (tf.signal semantics: round to samples).
  static int seconds_to_samples(double seconds, int sample_rate);

  // Every field equal (fft_length as given: 0 and its effective value differ).
  bool operator==(const FrontendConfig&) const = default;
};

}  // namespace tkws
