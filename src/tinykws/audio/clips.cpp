#include "tinykws/audio/clips.h"

#include "tinykws/audio/wav.h"
#include "tinykws/common/error.h"

namespace tkws {

LoadedClips load_clips(const std::vector<const ClipRef*>& refs, int sample_rate, int clip_samples,
                       int threads) {
  LoadedClips out;
  out.refs = refs;
  out.samples.resize(refs.size());
  std::vector<std::string> errors(refs.size());
  parallel_for(static_cast<int>(refs.size()), threads, [&](int i) {
    try {
      out.samples[i] = read_audio(refs[i]->path, sample_rate);
      fit_length(out.samples[i], clip_samples);
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  });
  std::string all;
  int n_bad = 0;
  for (auto& e : errors) {
    if (e.empty()) continue;
    if (++n_bad <= 20) all += "\n  " + e;
  }
  if (n_bad) {
    if (n_bad > 20) all += "\n  ... and " + std::to_string(n_bad - 20) + " more";
    throw InputError(std::to_string(n_bad) + " of " + std::to_string(refs.size()) +
                     " clips could not be read:" + all);
  }
  return out;
}

}  // namespace tkws
