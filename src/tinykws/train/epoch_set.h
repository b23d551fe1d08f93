// The training clips of one epoch of a keyword model: the trained words' clips (fixed), then
// the epoch's `_unknown_` draws, then its `_silence_` draws. Counts and labels are the same in
// every epoch; what fills the unknown and silence slots is redrawn per epoch, deterministically
// from (seed, epoch, slot), so a resumed or repeated run sees the same clips. Torch-free.
#pragma once
#include <cstdint>
#include <vector>

#include "tinykws/config/config.h"

namespace tkws {

class BackgroundNoise;

class EpochSet {
 public:
  // `words`: loaded training clips of the keywords ([i] of class word_class[i], a keyword).
  // `unknown_pool`: loaded training clips of the unknown words. Both are kept by reference and
  // must outlive the EpochSet; `bg` may be null when there is no `_silence_` class.
  EpochSet(const TrainConfig& t, int clip_samples, const std::vector<std::vector<float>>& words,
           const std::vector<int64_t>& word_class,
           const std::vector<std::vector<float>>& unknown_pool, int unknown_class,
           int silence_class, const BackgroundNoise* bg);

  int size() const { return static_cast<int>(labels_.size()); }
  int num_words() const { return static_cast<int>(words_.size()); }
  int num_unknown() const { return n_unknown_; }
  int num_silence() const { return n_silence_; }
  const std::vector<int64_t>& labels() const { return labels_; }
  // Writes slot i's clip of `epoch` (clip_samples floats). Thread-safe (const, no state).
  void clip(int epoch, int i, float* out) const;

 private:
  void unknown_clip(uint64_t rng_seed, float* out) const;

  const TrainConfig& t_;
  int clip_samples_;
  const std::vector<std::vector<float>>& words_;
  const std::vector<std::vector<float>>& unknown_;
  const BackgroundNoise* bg_;
  int n_unknown_ = 0, n_silence_ = 0;
  std::vector<int64_t> labels_;
};

}  // namespace tkws
