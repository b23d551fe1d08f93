#include "tinykws/audio/background.h"

#include <algorithm>
#include <random>

#include "tinykws/audio/clips.h"
#include "tinykws/audio/wav.h"
#include "tinykws/common/error.h"

namespace tkws {

BackgroundNoise::BackgroundNoise(const std::vector<std::string>& files, int sample_rate,
                                 int clip_samples, const std::string& where)
    : files_(files), clip_samples_(clip_samples) {
  if (files.empty())
    throw InputError(where +
                     ": no background recordings (a `_background_noise_` folder with "
                     ".wav files is needed for _silence_ clips and background noise)");
  recordings_.resize(files.size());
  std::vector<std::string> errors(files.size());
  parallel_for(static_cast<int>(files.size()), 2, [&](int i) {
    try {
      recordings_[i] = read_audio(files[i], sample_rate);
      if (recordings_[i].size() < 2 * static_cast<size_t>(clip_samples))
        errors[i] = files[i] + ": background recording too short (" +
                    std::to_string(recordings_[i].size()) + " samples; at least " +
                    std::to_string(2 * clip_samples) + " needed)";
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  });
  std::string all;
  for (const auto& e : errors)
    if (!e.empty()) all += (all.empty() ? "" : "; ") + e;
  if (!all.empty()) throw InputError(where + ": unreadable background audio: " + all);
}

void BackgroundNoise::window(Split split, uint64_t rng_seed, float volume, float* out) const {
  std::mt19937_64 rng(rng_seed);
  const auto& rec = recordings_[rng() % recordings_.size()];
  const size_t n = rec.size(), clip = static_cast<size_t>(clip_samples_);
  const size_t val_begin = n - static_cast<size_t>(static_cast<double>(n) * kValFraction);
  // Part [lo, hi) of the recording; a part shorter than a clip is widened to one clip.
  size_t lo = split == Split::kTrain ? 0 : val_begin, hi = split == Split::kTrain ? val_begin : n;
  if (hi - lo < clip) {
    if (split == Split::kTrain)
      hi = lo + clip;
    else
      lo = hi - clip;
  }
  const size_t offset = lo + rng() % (hi - lo - clip + 1);
  for (size_t i = 0; i < clip; ++i) out[i] = rec[offset + i] * volume;
}

std::vector<std::vector<float>> background_eval_windows(const BackgroundNoise& bg) {
  std::vector<std::vector<float>> out;
  if (bg.empty()) return out;
  constexpr uint64_t kEvalSeed = 0x6b77736267ull;  // fixed: the same windows everywhere
  for (int i = 0; i < kBackgroundEvalWindows; ++i) {
    std::mt19937_64 rng(kEvalSeed + static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull);
    const float volume = static_cast<float>((rng() >> 11) * 0x1.0p-53);
    std::vector<float> w(static_cast<size_t>(bg.clip_samples()));
    bg.window(Split::kVal, rng(), volume, w.data());
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace tkws
