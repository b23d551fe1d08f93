#include "tinykws/eval/stream_gen.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "tinykws/audio/level.h"
#include "tinykws/audio/reverb.h"
#include "tinykws/audio/wav.h"
#include "tinykws/common/error.h"

namespace tkws {
GeneratedStream generate_stream(const std::vector<StreamWordClip>& keywords,
                                const std::vector<StreamWordClip>& others,
                                const std::vector<std::string>& noise_paths,
                                const StreamGenOptions& opt) {
  if (!(opt.others_share >= 0.0 && opt.others_share <= 1.0))
    throw InputError(fmt::format("--others-share {:g} must be in [0, 1]", opt.others_share));
  if (!(opt.gap_s >= 0.0 && opt.gap_s <= 60.0))
    throw InputError(fmt::format("--gap {:g} must be in [0, 60] s", opt.gap_s));
  if (!(opt.snr_min_db <= opt.snr_max_db) || !std::isfinite(opt.snr_min_db) ||
      !std::isfinite(opt.snr_max_db))
    throw InputError(fmt::format("--snr-min {:g} / --snr-max {:g}: expected finite, min <= max",
                                 opt.snr_min_db, opt.snr_max_db));
  const bool reverb = opt.rt60_max_s > 0.0;
  if (reverb && !(opt.rt60_min_s >= kRt60MinS && opt.rt60_min_s <= opt.rt60_max_s &&
                  opt.rt60_max_s <= kRt60MaxS))
    throw InputError(
        fmt::format("--rt60-min {:g} / --rt60-max {:g}: expected {:g} <= min <= max "
                    "<= {:g} s",
                    opt.rt60_min_s, opt.rt60_max_s, kRt60MinS, kRt60MaxS));
  if (reverb && !(opt.drr_min_db >= kDrrMinDb && opt.drr_min_db <= opt.drr_max_db &&
                  opt.drr_max_db <= kDrrMaxDb))
    throw InputError(
        fmt::format("--drr-min {:g} / --drr-max {:g}: expected {:g} <= min <= max "
                    "<= {:g} dB",
                    opt.drr_min_db, opt.drr_max_db, kDrrMinDb, kDrrMaxDb));
  if (opt.others_share < 1.0 && keywords.empty())
    throw InputError("make-stream: no keyword clips in the split (check --keywords and --data)");
  if (opt.others_share > 0.0 && others.empty())
    throw InputError(
        "make-stream: no clips of other words in the split (add a --data folder with other "
        "words, or --others-share 0)");
  if (opt.noise && noise_paths.empty())
    throw InputError("make-stream: no background recordings (give --noise DIR, or --no-noise)");

  const size_t clip = static_cast<size_t>(opt.clip_samples);
  const size_t gap = static_cast<size_t>(std::lround(opt.gap_s * opt.sample_rate));
  const size_t slot = clip + gap;
  const size_t slots = static_cast<size_t>(opt.duration_s * opt.sample_rate) / slot;
  if (slots == 0)
    throw InputError(fmt::format("--duration {:g} s is shorter than one slot ({:g} s)",
                                 opt.duration_s, static_cast<double>(slot) / opt.sample_rate));
  std::vector<std::vector<float>> noise;
  if (opt.noise) {
    for (const std::string& p : noise_paths) {
      std::vector<float> x = read_audio(p, opt.sample_rate);
      if (x.size() >= slot && mean_square(x.data(), x.size()) > 0) noise.push_back(std::move(x));
    }
    if (noise.empty())
      throw InputError(
          fmt::format("make-stream: no background recording is at least one slot "
                      "({:g} s) long and not silent",
                      static_cast<double>(slot) / opt.sample_rate));
  }

  std::mt19937_64 rng(opt.seed);
  auto uniform = [&](double lo, double hi) {
    return lo + (hi - lo) * std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  };
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  std::mt19937_64 room(opt.seed ^ 0x726f6f6dull);  // "room": the reverberation's own stream
  auto room_uniform = [&](double lo, double hi) {
    return lo + (hi - lo) * std::uniform_real_distribution<double>(0.0, 1.0)(room);
  };
  GeneratedStream g;
  g.audio.assign(slots * slot, 0.0f);
  for (size_t s = 0; s < slots; ++s) {
    const bool other = uniform(0.0, 1.0) < opt.others_share;
    const StreamWordClip& w = other ? others[pick(others.size())] : keywords[pick(keywords.size())];
    std::vector<float> x = read_audio(w.path, opt.sample_rate);
    fit_length(x, opt.clip_samples);
    const size_t offset = gap ? pick(gap + 1) : 0;
    const size_t at = s * slot + offset;
    size_t b = 0, e = clip;
    audible_extent(x, opt.sample_rate, &b, &e);
    const double ps = mean_square(x.data() + b, e - b);
    if (reverb) {
      const double rt60 = room_uniform(opt.rt60_min_s, opt.rt60_max_s);
      const double drr = room_uniform(opt.drr_min_db, opt.drr_max_db);
      reverberate(x, make_rir(rt60, drr, opt.sample_rate, room(), opt.clip_samples));
    }
    for (size_t i = 0; i < clip; ++i) g.audio[at + i] += x[i];
    g.labels.push_back({static_cast<double>(at + b) / opt.sample_rate,
                        static_cast<double>(at + e) / opt.sample_rate, w.label});
    (other ? g.others : g.keywords) += 1;
    if (noise.empty()) continue;
    const std::vector<float>& n = noise[pick(noise.size())];
    const size_t from = pick(n.size() - slot + 1);
    const double pn = mean_square(n.data() + from, slot);
    const double snr = uniform(opt.snr_min_db, opt.snr_max_db);
    const double gain = snr_gain(ps, pn, snr);
    for (size_t i = 0; i < slot; ++i)
      g.audio[s * slot + i] += static_cast<float>(gain * n[from + i]);
  }
  for (float& v : g.audio) v = std::clamp(v, -1.0f, 32767.0f / 32768.0f);
  return g;
}

std::string stream_labels_csv(const std::vector<StreamLabel>& labels) {
  std::string s = "start_s,end_s,label\n";
  for (const StreamLabel& l : labels)
    s += fmt::format("{:.3f},{:.3f},{}\n", l.start_s, l.end_s, l.label);
  return s;
}

}  // namespace tkws
