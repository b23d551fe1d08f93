// The feature front end: STFT -> |X| -> mel -> log -> (MFCC), with TensorFlow tf.signal
// semantics (docs/frontend.md). Used by training (features for every clip) and by the runtime:
// one implementation, so a model never meets features it was not trained on.
// Construction allocates every buffer; compute() allocates nothing and never throws.
#pragma once
#include <memory>
#include <vector>

#include "tinykws/frontend/frontend_config.h"

namespace tkws {

// Mel scale of tf.signal (HTK-style, natural log): mel(f) = 1127 ln(1 + f / 700), f in Hz,
// and its inverse.
float hz_to_mel(float hz);
float mel_to_hz(float mel);

// [num_bins][num_mel_bins] row-major, float32, tf.signal.linear_to_mel_weight_matrix.
std::vector<float> mel_weight_matrix(int num_mel_bins, int num_bins, int sample_rate,
                                     float lower_hz, float upper_hz);

// Periodic Hann window of length L (docs/frontend.md: D = L for even L, L - 1 for odd L).
std::vector<float> hann_window(int length);

class Frontend {
 public:
  // cfg must satisfy cfg.check().empty(); otherwise the object is unusable (ok() == false).
  explicit Frontend(const FrontendConfig& cfg);
  ~Frontend();
  Frontend(const Frontend&) = delete;
  Frontend& operator=(const Frontend&) = delete;
  Frontend(Frontend&&) noexcept;
  Frontend& operator=(Frontend&&) noexcept;

  bool ok() const;
  const FrontendConfig& config() const;
  int num_frames() const;
  int num_features() const;

  // samples: cfg.clip_samples floats, int16 / 32768 scale (as read from a WAV).
  // out: [num_frames][num_features] row-major. Thread-compatible (one Frontend per thread).
  void compute(const float* samples, float* out);
  // The streaming form: n consecutive frames of a longer signal (runtime/detector.h computes
  // only the frames that are new). samples: (n - 1) * frame_step + frame_length floats, scaled
  // as above; out: [n][num_features] row-major. Row k equals row t + k of compute() on a clip
  // whose frame t starts at samples[0]. Allocates nothing; n <= 0 writes nothing.
  void compute_frames(const float* samples, int n, float* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tkws
