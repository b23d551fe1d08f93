// Feature matrices for a set of clips, computed with the runtime's own Frontend, plus the
// training-time augmentations. Torch-free.
#pragma once
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "tinykws/config/config.h"

namespace tkws {

class BackgroundNoise;

// Counter-based seeding: one independent stream per (seed, epoch, clip, purpose), so results
// never depend on thread scheduling or on where a resumed run restarted.
uint64_t stream_seed(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t purpose);

// A draw uniform in [0, 1) from the top 53 bits of one rng() output: the same on every
// standard library (std::uniform_real_distribution is not).
inline double uniform01(std::mt19937_64& rng) {
  return (rng() >> 11) * 0x1.0p-53;
}
// The purpose of the training-order shuffles (epoch e: stream_seed(seed, e, 0, kShuffleStream)).
constexpr uint64_t kShuffleStream = 2;

// int8 calibration clips of a training run with `seed`: the first min(count, n) of the n
// training clips in the order of the epoch-0 shuffle. `tinykws quantize --seed` uses the same
// subset, so quantising a float run afterwards gives the int8 model the run would have written.
std::vector<int> calibration_clips(int n, int count, uint64_t seed);

struct FeatureStats {
  std::vector<float> mean, inv_std;  // per coefficient
};

// Per-coefficient mean and 1/std over every frame of `feats` ([n][frames][coeffs]),
// accumulated in double. std is floored at 1e-4 to keep silent coefficients finite.
FeatureStats compute_stats(const std::vector<float>& feats, int n, int frames, int coeffs);

// x = (x - mean) * inv_std for every frame, in place (normalise_features, format/model.h).
void normalize(std::vector<float>& feats, const FeatureStats& s, int n, int frames, int coeffs);

// Resamples `clip` in place about its centre: out[i] = in(c + (i - c) * factor), c the middle
// sample, linear interpolation, silence outside the clip (factor > 1: shorter and higher).
void speed_perturb(std::vector<float>& clip, double factor);

// In-place waveform augmentation of one clip: speed perturbation (speed_min/max), room
// reverberation (reverb_prob), random time shift (zero fill), gain, white noise at a random SNR,
// then (background_frequency > 0, `bg` given) a background window of the training part of the
// recordings at a random volume or at a random SNR below the clip's speech
// (AugmentConfig::background_level). `rng_seed` from stream_seed(); the speed, reverberation and
// background draws use streams of their own, so turning them on leaves the other draws unchanged.
void augment_waveform(std::vector<float>& clip, const AugmentConfig& a, int sample_rate,
                      uint64_t rng_seed, const BackgroundNoise* bg = nullptr);

// Vocal tract length perturbation of one [frames][bands] log-Mel matrix, in place: band k
// takes the (linearly interpolated) value the unwarped matrix has at frequency f_k / factor,
// f_k the band's centre frequency on the front end's mel scale (clamped to the first and last
// band). factor 1 leaves the matrix unchanged.
void warp_mel_bands(float* feats, int frames, const FrontendConfig& fe, double factor);

// The warp factor of clip stream `rng_seed` (stream_seed(), the waveform draws' seed): a
// stream of its own, uniform in [vtlp_min, vtlp_max].
double vtlp_factor(const AugmentConfig& a, uint64_t rng_seed);

// In-place SpecAugment-style masks on one normalised [frames][coeffs] matrix (masked = 0,
// i.e. the training mean).
void mask_features(float* feats, int frames, int coeffs, const AugmentConfig& a, uint64_t rng_seed);

// Features of every clip ([n][frames][coeffs]); with `augment`, each clip is first augmented
// with stream (seed, epoch, i). Runs on `threads` workers; result independent of `threads`.
std::vector<float> extract_features(const std::vector<std::vector<float>>& clips,
                                    const FrontendConfig& fe, const AugmentConfig* augment,
                                    uint64_t seed, int epoch, int threads,
                                    const BackgroundNoise* bg = nullptr);

// The same for `n` clips made on the fly: fill(i, out) writes clip i (clip_samples floats).
// fill is called from several worker threads at once and must be thread-safe.
std::vector<float> extract_features(int n, const std::function<void(int, float*)>& fill,
                                    const FrontendConfig& fe, const AugmentConfig* augment,
                                    uint64_t seed, int epoch, int threads,
                                    const BackgroundNoise* bg = nullptr);

}  // namespace tkws
