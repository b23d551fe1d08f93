// The decision half of the streaming detector (runtime/detector.h), on its own so it can be
// tested and replayed on score sequences alone (stream-eval's threshold sweep): per-class
// scores arrive once per hop; they are averaged over the last `smoothing_hops` hops; a keyword
// fires when its average is >= its threshold for `min_hops` consecutive hops and it is the
// highest-scoring keyword of that hop; after a detection nothing fires for `refractory_hops`
// hops. Non-keyword classes never fire.
// init() allocates; push() / push_gated() / reset() allocate nothing and never throw.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tinykws/format/model.h"
#include "tinykws/runtime/status.h"

namespace tkws {

// DetectorSettings (model.h) in hops of hop_ms each.
struct DeciderConfig {
  int num_labels = 0;
  std::vector<uint8_t> keyword;   // [num_labels], 1 = may fire
  std::vector<float> thresholds;  // [num_labels], in [0, 1]
  int smoothing_hops = 1;         // >= 1: average over this many hops
  int min_hops = 1;               // >= 1
  int refractory_hops = 0;        // >= 0: hops after a detection in which nothing fires

  // From a model's labels / keyword flags and settings whose times are converted with the
  // detector's real hop length in ms (hop_ms after rounding to whole frames).
  static DeciderConfig from_settings(const Model& m, const DetectorSettings& s,
                                     double hop_ms_effective);
};

class StreamDecider {
 public:
  Status init(const DeciderConfig& cfg);

  // One hop's raw scores (num_labels floats). Returns the label that fires, or -1; *score
  // gets the fired label's smoothed score.
  int push(const float* scores, float* score) noexcept;
  // A hop where the network did not run (energy gate closed): the smoothing history and the
  // consecutive-hop counts restart; the refractory time keeps running.
  void push_gated() noexcept;
  void reset() noexcept;  // as after init()

  const float* smoothed() const { return smoothed_.data(); }  // after the last push
  const DeciderConfig& config() const { return cfg_; }
  size_t memory_bytes() const;  // heap bytes held

 private:
  void clear_history() noexcept;  // ring, sums, smoothed scores, counts
  DeciderConfig cfg_;
  std::vector<float> history_;   // [smoothing_hops][num_labels] ring of raw scores
  std::vector<double> sum_;      // [num_labels] sum of the ring's rows
  std::vector<float> smoothed_;  // [num_labels]
  std::vector<int> above_;       // [num_labels] consecutive hops >= threshold
  int filled_ = 0, next_ = 0;    // rows in the ring, next row to write
  int64_t since_fire_ = 0;       // hops since the last detection
};

}  // namespace tkws
