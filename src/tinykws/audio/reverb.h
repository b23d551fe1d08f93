// Synthetic room reverberation, for training augmentation (train/feature_set) and far-field
// test streams (`make-stream --rt60-max`): a clip convolved with a room impulse response made of
// a direct path and an exponentially decaying noise tail (the statistical room model of
// Schroeder; as in Kaldi's and openWakeWord's simulated-RIR augmentation, without a measured
// RIR set, which this project cannot ship).
#pragma once
#include <cstdint>
#include <vector>

namespace tkws {

// The rooms training (`[train.augment] reverb_*`) and `make-stream` (`--rt60-*`, `--drr-*`)
// accept: reverberation time in seconds, direct-to-reverberant ratio in dB.
constexpr double kRt60MinS = 0.05, kRt60MaxS = 2.0;
constexpr double kDrrMinDb = -20.0, kDrrMaxDb = 40.0;

// A room impulse response: h[0] = 1 (the direct path), then from 2.5 ms on Gaussian noise whose
// amplitude decays by 60 dB over rt60_s seconds, scaled so that the direct path's energy is
// drr_db above the tail's (direct-to-reverberant ratio). The response is cut where the decay
// reaches -60 dB, at most max_samples long. Deterministic for a given seed.
std::vector<float> make_rir(double rt60_s, double drr_db, int sample_rate, uint64_t seed,
                            int max_samples);

// Replaces `clip` by its convolution with `rir`, cut to the clip's length (the word stays where
// it was, its tail past the end is lost), and rescaled to the clip's mean square before (so a
// reverberant clip is as loud as the dry one). FFT convolution (kissfft); a silent clip stays
// silent.
void reverberate(std::vector<float>& clip, const std::vector<float>& rir);

}  // namespace tkws
