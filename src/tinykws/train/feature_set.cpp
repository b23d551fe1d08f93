#include "tinykws/train/feature_set.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "tinykws/audio/background.h"
#include "tinykws/audio/clips.h"
#include "tinykws/audio/level.h"
#include "tinykws/audio/reverb.h"
#include "tinykws/format/model.h"
#include "tinykws/frontend/frontend.h"

namespace tkws {

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

uint64_t stream_seed(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t purpose) {
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ epoch);
  h = splitmix64(h ^ index);
  return splitmix64(h ^ purpose);
}

FeatureStats compute_stats(const std::vector<float>& feats, int n, int frames, int coeffs) {
  std::vector<double> sum(coeffs, 0.0), sq(coeffs, 0.0);
  size_t rows = static_cast<size_t>(n) * frames;
  for (size_t r = 0; r < rows; ++r)
    for (int k = 0; k < coeffs; ++k) {
      double v = feats[r * coeffs + k];
      sum[k] += v;
      sq[k] += v * v;
    }
  FeatureStats s;
  s.mean.resize(coeffs);
  s.inv_std.resize(coeffs);
  for (int k = 0; k < coeffs; ++k) {
    double m = rows ? sum[k] / rows : 0.0;
    double var = rows ? std::max(sq[k] / rows - m * m, 0.0) : 1.0;
    s.mean[k] = static_cast<float>(m);
    s.inv_std[k] = static_cast<float>(1.0 / std::max(std::sqrt(var), 1e-4));
  }
  return s;
}

void normalize(std::vector<float>& feats, const FeatureStats& s, int n, int frames, int coeffs) {
  normalise_features(feats.data(), static_cast<size_t>(n) * frames, coeffs, s.mean.data(),
                     s.inv_std.data());
}

void speed_perturb(std::vector<float>& clip, double factor) {
  if (factor == 1.0 || clip.empty()) return;
  const std::vector<float> in(clip);
  const int n = static_cast<int>(in.size());
  const double centre = 0.5 * (n - 1);
  for (int i = 0; i < n; ++i) {  // linear interpolation; outside the clip is silence
    const double x = centre + (i - centre) * factor;
    const double fl = std::floor(x);
    const int k = static_cast<int>(fl);
    const double f = x - fl;
    const double a = k >= 0 && k < n ? in[k] : 0.0;
    const double b = k + 1 >= 0 && k + 1 < n ? in[k + 1] : 0.0;
    clip[i] = static_cast<float>(a + (b - a) * f);
  }
}

void augment_waveform(std::vector<float>& clip, const AugmentConfig& a, int sample_rate,
                      uint64_t rng_seed, const BackgroundNoise* bg) {
  std::mt19937_64 rng(rng_seed);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  const int n = static_cast<int>(clip.size());
  if (a.speed()) {  // its own random stream: the draws below stay as they were without it
    std::mt19937_64 srng(splitmix64(rng_seed ^ 0x737064ull));  // "spd"
    const double u = uniform01(srng);
    speed_perturb(clip, a.speed_min + (a.speed_max - a.speed_min) * u);
  }
  if (a.reverb_prob > 0.0f) {  // its own stream too ("rvb")
    std::mt19937_64 rrng(splitmix64(rng_seed ^ 0x727662ull));
    if (uniform01(rrng) < a.reverb_prob) {
      const double rt60 =
          a.reverb_rt60_min + (a.reverb_rt60_max - a.reverb_rt60_min) * uniform01(rrng);
      const double drr =
          a.reverb_drr_db_min + (a.reverb_drr_db_max - a.reverb_drr_db_min) * uniform01(rrng);
      reverberate(clip, make_rir(rt60, drr, sample_rate, rrng(), n));
    }
  }
  if (a.time_shift_ms > 0.0f) {
    int max_shift = static_cast<int>(a.time_shift_ms * 1e-3 * sample_rate);
    int shift = static_cast<int>(std::floor(u01(rng) * (2 * max_shift + 1))) - max_shift;
    if (shift > 0) {
      for (int i = n - 1; i >= 0; --i) clip[i] = i >= shift ? clip[i - shift] : 0.0f;
    } else if (shift < 0) {
      for (int i = 0; i < n; ++i) clip[i] = i - shift < n ? clip[i - shift] : 0.0f;
    }
  }
  if (a.gain_db_min != 0.0f || a.gain_db_max != 0.0f) {
    double db = a.gain_db_min + (a.gain_db_max - a.gain_db_min) * u01(rng);
    float g = static_cast<float>(std::pow(10.0, db / 20.0));
    for (auto& v : clip) v *= g;
  }
  // The background's draws come from a stream of their own ("bkg"), so whether this clip gets
  // one is known here, before the white noise: the speech level is measured only then, and
  // before that noise spreads the clip's audible extent.
  std::mt19937_64 brng(splitmix64(rng_seed ^ 0x626b67ull));
  const bool mix_bg = bg && !bg->empty() && a.background_frequency > 0.0f &&
                      static_cast<int>(clip.size()) == bg->clip_samples() &&
                      uniform01(brng) < a.background_frequency;
  const double speech = mix_bg && a.background_level == AugmentConfig::BackgroundLevel::kSnr
                            ? speech_power(clip.data(), clip.size(), sample_rate)
                            : 0.0;
  if (a.noise_prob > 0.0f && u01(rng) < a.noise_prob) {
    double snr = a.noise_snr_db_min + (a.noise_snr_db_max - a.noise_snr_db_min) * u01(rng);
    double p = 0.0;
    for (float v : clip) p += static_cast<double>(v) * v;
    p = std::max(p / std::max(n, 1), 1e-10);
    double sigma = std::sqrt(p / std::pow(10.0, snr / 10.0));
    std::normal_distribution<double> g(0.0, sigma);
    for (auto& v : clip) v += static_cast<float>(g(rng));
  }
  if (mix_bg) {
    const double level = uniform01(brng);  // volume or SNR, uniform in its range
    const bool snr_mode = speech > 0.0;    // kSnr and a clip with a level
    std::vector<float> w(clip.size());
    bg->window(Split::kTrain, brng(),
               snr_mode ? 1.0f : static_cast<float>(level * a.background_volume), w.data());
    if (snr_mode) {
      const double snr =
          a.background_snr_db_min + (a.background_snr_db_max - a.background_snr_db_min) * level;
      const auto gain = static_cast<float>(snr_gain(speech, mean_square(w.data(), w.size()), snr));
      for (float& v : w) v *= gain;
    }
    for (size_t i = 0; i < clip.size(); ++i) clip[i] += w[i];
  }
}

void warp_mel_bands(float* feats, int frames, const FrontendConfig& fe, double factor) {
  const int bands = fe.num_mel_bins;
  if (factor == 1.0 || bands < 2) return;
  const double lo = hz_to_mel(fe.lower_hz), step = (hz_to_mel(fe.upper_hz) - lo) / (bands + 1);
  // Fractional source band of each band (the centre of band k is edge k + 1).
  std::vector<double> src(static_cast<size_t>(bands));
  for (int k = 0; k < bands; ++k) {
    const double centre = mel_to_hz(static_cast<float>(lo + (k + 1) * step));
    src[static_cast<size_t>(k)] = std::clamp(
        (hz_to_mel(static_cast<float>(centre / factor)) - lo) / step - 1.0, 0.0, bands - 1.0);
  }
  std::vector<float> row(static_cast<size_t>(bands));
  for (int t = 0; t < frames; ++t) {
    float* x = feats + static_cast<size_t>(t) * bands;
    std::copy(x, x + bands, row.begin());
    for (int k = 0; k < bands; ++k) {
      const double j = src[static_cast<size_t>(k)];
      const int j0 = std::min(static_cast<int>(j), bands - 2);
      const double w = j - j0;
      x[k] = static_cast<float>(row[static_cast<size_t>(j0)] * (1.0 - w) +
                                row[static_cast<size_t>(j0) + 1] * w);
    }
  }
}

double vtlp_factor(const AugmentConfig& a, uint64_t rng_seed) {
  std::mt19937_64 rng(splitmix64(rng_seed ^ 0x76746cull));  // "vtl"
  return a.vtlp_min + (a.vtlp_max - a.vtlp_min) * uniform01(rng);
}

void mask_features(float* feats, int frames, int coeffs, const AugmentConfig& a,
                   uint64_t rng_seed) {
  std::mt19937_64 rng(rng_seed);
  auto uniform_int = [&](int lo, int hi) {  // inclusive; portable (no std distribution)
    return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
  };
  for (int m = 0; m < a.time_masks && a.time_mask_max > 0; ++m) {
    int w = uniform_int(0, a.time_mask_max);
    int t0 = uniform_int(0, frames - w);
    for (int t = t0; t < t0 + w; ++t)
      for (int k = 0; k < coeffs; ++k) feats[t * coeffs + k] = 0.0f;
  }
  for (int m = 0; m < a.freq_masks && a.freq_mask_max > 0; ++m) {
    int w = uniform_int(0, a.freq_mask_max);
    int k0 = uniform_int(0, coeffs - w);
    for (int t = 0; t < frames; ++t)
      for (int k = k0; k < k0 + w; ++k) feats[t * coeffs + k] = 0.0f;
  }
}

std::vector<float> extract_features(const std::vector<std::vector<float>>& clips,
                                    const FrontendConfig& fe, const AugmentConfig* augment,
                                    uint64_t seed, int epoch, int threads,
                                    const BackgroundNoise* bg) {
  return extract_features(
      static_cast<int>(clips.size()),
      [&](int i, float* out) { std::copy(clips[i].begin(), clips[i].end(), out); }, fe, augment,
      seed, epoch, threads, bg);
}

std::vector<float> extract_features(int n, const std::function<void(int, float*)>& fill,
                                    const FrontendConfig& fe, const AugmentConfig* augment,
                                    uint64_t seed, int epoch, int threads,
                                    const BackgroundNoise* bg) {
  const size_t per = static_cast<size_t>(fe.num_frames()) * fe.num_features();
  std::vector<float> out(per * n);
  threads = std::max(1, std::min(threads, n));
  // One Frontend per worker; clip i always goes to worker i % threads (parallel_for), and
  // each clip's result depends only on the clip and its own random stream.
  std::vector<std::unique_ptr<Frontend>> fronts;
  for (int t = 0; t < threads; ++t) fronts.push_back(std::make_unique<Frontend>(fe));
  std::vector<std::vector<float>> bufs(threads, std::vector<float>(fe.clip_samples));
  parallel_for(n, threads, [&](int i) {
    Frontend& f = *fronts[i % threads];
    std::vector<float>& clip = bufs[i % threads];
    fill(i, clip.data());
    const uint64_t clip_seed = stream_seed(seed, epoch, i, 1);
    if (augment && augment->waveform())
      augment_waveform(clip, *augment, fe.sample_rate, clip_seed, bg);
    f.compute(clip.data(), out.data() + per * i);
    if (augment && augment->vtlp())
      warp_mel_bands(out.data() + per * i, fe.num_frames(), fe, vtlp_factor(*augment, clip_seed));
  });
  return out;
}

std::vector<int> calibration_clips(int n, int count, uint64_t seed) {
  std::vector<int> order(n > 0 ? n : 0);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 shuf(stream_seed(seed, 0, 0, kShuffleStream));
  for (int i = n - 1; i > 0; --i) std::swap(order[i], order[shuf() % (i + 1)]);
  order.resize(std::clamp(count, 0, n > 0 ? n : 0));
  return order;
}

}  // namespace tkws
