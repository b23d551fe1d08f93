// Background recordings (the dataset's `_background_noise_` folder): the `_silence_` class,
// background-noise augmentation and the background windows evaluation counts false accepts on.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/audio/dataset.h"

namespace tkws {

class BackgroundNoise {
 public:
  // Every recording's last kValFraction (by samples) is kept for validation / evaluation
  // windows; training windows come from the part before it, so the two never overlap.
  static constexpr double kValFraction = 0.2;

  BackgroundNoise() = default;
  // Reads every file (read_audio: mono, resampled to `sample_rate`). Throws InputError naming
  // the files when none is given ("no background recordings in <where>") or when any file
  // cannot be read (all failures listed), or when a recording is shorter than 2 clips.
  BackgroundNoise(const std::vector<std::string>& files, int sample_rate, int clip_samples,
                  const std::string& where);

  bool empty() const { return recordings_.empty(); }
  size_t size() const { return recordings_.size(); }
  const std::vector<std::string>& files() const { return files_; }
  int clip_samples() const { return clip_samples_; }

  // Writes clip_samples samples of a window, drawn from the part of a recording that belongs
  // to `split` (kVal and kTest share the validation part), scaled by `volume`. The recording
  // and the offset come from `rng_seed` (uniform over recordings, then over offsets).
  void window(Split split, uint64_t rng_seed, float volume, float* out) const;

 private:
  std::vector<std::string> files_;
  std::vector<std::vector<float>> recordings_;
  int clip_samples_ = 0;
};

// Number of background windows evaluation (and training's model selection) counts false
// accepts on: 0.5 % of them is one window.
constexpr int kBackgroundEvalWindows = 200;

// The evaluation windows: kBackgroundEvalWindows windows of the validation part, window i drawn
// with stream i of a fixed seed at a volume uniform in [0, 1] (the `_silence_` class's range).
// Deterministic: every run and every tool sees the same windows.
std::vector<std::vector<float>> background_eval_windows(const BackgroundNoise& bg);

}  // namespace tkws
