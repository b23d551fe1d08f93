#include "tinykws/train/epoch_set.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "tinykws/audio/background.h"
#include "tinykws/train/feature_set.h"

namespace tkws {

namespace {

constexpr uint64_t kUnknownStream = 5, kSilenceStream = 6;

// Keeps the onset (or the ending) of the clip's energy: the samples up to where the
// cumulative energy reaches `share` of the total (or from where 1 - share of it remains);
// the rest is silenced. A clip of digital silence is left as it is.
void keep_fragment(float* x, int n, double share, bool onset) {
  double total = 0;
  for (int i = 0; i < n; ++i) total += static_cast<double>(x[i]) * x[i];
  if (total <= 0) return;
  const double target = (onset ? share : 1.0 - share) * total;
  double acc = 0;
  int cut = 0;
  while (cut < n && acc < target) acc += static_cast<double>(x[cut]) * x[cut], ++cut;
  if (onset)
    std::fill(x + cut, x + n, 0.0f);
  else
    std::fill(x, x + cut, 0.0f);
}

}  // namespace

EpochSet::EpochSet(const TrainConfig& t, int clip_samples,
                   const std::vector<std::vector<float>>& words,
                   const std::vector<int64_t>& word_class,
                   const std::vector<std::vector<float>>& unknown_pool, int unknown_class,
                   int silence_class, const BackgroundNoise* bg)
    : t_(t), clip_samples_(clip_samples), words_(words), unknown_(unknown_pool), bg_(bg) {
  const double n_kw = static_cast<double>(words.size());
  if (unknown_class >= 0 && !unknown_pool.empty())
    n_unknown_ = static_cast<int>(std::ceil(n_kw * t.unknown_percentage / 100.0));
  if (silence_class >= 0 && bg && !bg->empty())
    n_silence_ = static_cast<int>(std::ceil(n_kw * t.silence_percentage / 100.0));
  labels_ = word_class;
  labels_.insert(labels_.end(), n_unknown_, unknown_class);
  labels_.insert(labels_.end(), n_silence_, silence_class);
}

void EpochSet::unknown_clip(uint64_t rng_seed, float* out) const {
  std::mt19937_64 rng(rng_seed);
  const int n = clip_samples_;
  const size_t pool = unknown_.size();
  const auto& first = unknown_[rng() % pool];
  const double u = uniform01(rng);
  const double r = t_.unknown_reversed, f = r + t_.unknown_fragments, b = f + t_.unknown_babble;
  if (u < r) {  // time-reversed word
    std::reverse_copy(first.begin(), first.end(), out);
  } else if (u < f) {  // onset or ending of an unknown clip (or of a keyword clip)
    const bool keyword = t_.unknown_keyword_fragments && (rng() & 1) != 0;
    const auto& src = keyword ? words_[rng() % words_.size()] : unknown_[rng() % pool];
    std::copy(src.begin(), src.end(), out);
    const double share = 0.2 + 0.3 * uniform01(rng);
    keep_fragment(out, n, share, (rng() & 1) != 0);
  } else if (u < b) {  // babble: two words at once
    const auto& second = unknown_[rng() % pool];
    const float g = static_cast<float>(0.5 + 0.5 * uniform01(rng));
    for (int i = 0; i < n; ++i) out[i] = 0.7f * (first[i] + g * second[i]);
  } else {
    std::copy(first.begin(), first.end(), out);
  }
}

void EpochSet::clip(int epoch, int i, float* out) const {
  const int nw = num_words();
  if (i < nw) {
    std::copy(words_[i].begin(), words_[i].end(), out);
  } else if (i < nw + n_unknown_) {
    unknown_clip(stream_seed(t_.seed, epoch, i - nw, kUnknownStream), out);
  } else {
    std::mt19937_64 rng(stream_seed(t_.seed, epoch, i - nw - n_unknown_, kSilenceStream));
    if (rng() % 10 == 0) {
      std::fill(out, out + clip_samples_, 0.0f);  // digital silence
    } else {
      const float volume = static_cast<float>(uniform01(rng));
      bg_->window(Split::kTrain, rng(), volume, out);
    }
  }
}

}  // namespace tkws
