#include "tinykws/runtime/stream_decider.h"

#include <algorithm>
#include <cmath>

namespace tkws {

DeciderConfig DeciderConfig::from_settings(const Model& m, const DetectorSettings& s,
                                           double hop_ms_effective) {
  DeciderConfig c;
  c.num_labels = static_cast<int>(m.labels.size());
  for (int i = 0; i < c.num_labels; ++i) {
    c.keyword.push_back(m.is_keyword(static_cast<size_t>(i)) ? 1 : 0);
    c.thresholds.push_back(s.thresholds.empty() ? s.threshold
                                                : s.thresholds[static_cast<size_t>(i)]);
  }
  const double hop = std::max(hop_ms_effective, 1e-3);
  c.smoothing_hops = std::max(1, static_cast<int>(std::lround(s.smoothing_ms / hop)));
  c.min_hops = s.min_hops;
  c.refractory_hops = static_cast<int>(std::ceil(s.refractory_ms / hop - 1e-9));
  return c;
}

Status StreamDecider::init(const DeciderConfig& cfg) {
  const size_t n = static_cast<size_t>(std::max(cfg.num_labels, 0));
  if (cfg.num_labels < 1 || cfg.keyword.size() != n || cfg.thresholds.size() != n)
    return Status::Error(StatusCode::kInvalidArgument,
                         "decider: expected num_labels >= 1 keyword flags and thresholds");
  if (cfg.smoothing_hops < 1 || cfg.min_hops < 1 || cfg.refractory_hops < 0)
    return Status::Error(StatusCode::kInvalidArgument,
                         "decider: smoothing %d, min %d and refractory %d hops out of range",
                         cfg.smoothing_hops, cfg.min_hops, cfg.refractory_hops);
  cfg_ = cfg;
  history_.assign(static_cast<size_t>(cfg.smoothing_hops) * n, 0.0f);
  sum_.assign(n, 0.0);
  smoothed_.assign(n, 0.0f);
  above_.assign(n, 0);
  reset();
  return Status::Ok();
}

void StreamDecider::clear_history() noexcept {
  std::fill(history_.begin(), history_.end(), 0.0f);
  std::fill(sum_.begin(), sum_.end(), 0.0);
  std::fill(smoothed_.begin(), smoothed_.end(), 0.0f);
  std::fill(above_.begin(), above_.end(), 0);
  filled_ = next_ = 0;
}

void StreamDecider::reset() noexcept {
  clear_history();
  since_fire_ = INT64_MAX / 2;
}

void StreamDecider::push_gated() noexcept {
  clear_history();
  ++since_fire_;
}

int StreamDecider::push(const float* scores, float* score) noexcept {
  const int n = cfg_.num_labels;
  if (n == 0 || scores == nullptr) return -1;
  // Ring update: drop the oldest row from the sum once the ring is full.
  float* row = history_.data() + static_cast<size_t>(next_) * n;
  const bool full = filled_ == cfg_.smoothing_hops;
  for (int c = 0; c < n; ++c) {
    if (full) sum_[c] -= row[c];
    row[c] = scores[c];
    sum_[c] += scores[c];
  }
  next_ = next_ + 1 == cfg_.smoothing_hops ? 0 : next_ + 1;
  if (!full) ++filled_;
  ++since_fire_;
  int best = -1;
  for (int c = 0; c < n; ++c) {
    smoothed_[c] = static_cast<float>(sum_[c] / filled_);
    above_[c] = smoothed_[c] >= cfg_.thresholds[c] ? above_[c] + 1 : 0;
    if (cfg_.keyword[c] && above_[c] >= cfg_.min_hops &&
        (best < 0 || smoothed_[c] > smoothed_[best]))
      best = c;
  }
  // since_fire_ counts this hop: hop k after a detection has since_fire_ == k.
  if (best < 0 || since_fire_ <= cfg_.refractory_hops) return -1;
  since_fire_ = 0;
  std::fill(above_.begin(), above_.end(), 0);
  if (score) *score = smoothed_[best];
  return best;
}

size_t StreamDecider::memory_bytes() const {
  return history_.capacity() * sizeof(float) + sum_.capacity() * sizeof(double) +
         smoothed_.capacity() * sizeof(float) + above_.capacity() * sizeof(int) +
         cfg_.keyword.capacity() + cfg_.thresholds.capacity() * sizeof(float);
}

}  // namespace tkws
