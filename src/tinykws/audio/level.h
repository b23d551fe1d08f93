// Signal levels shared by the stream generator (eval/stream_gen) and training's background
// augmentation (train/feature_set), so both mix noise at the same SNR definition:
// SNR = 10 log10(speech power / noise power), speech power over the word's audible extent.
#pragma once
#include <cstddef>
#include <vector>

namespace tkws {

// Mean of x[i]^2 over n samples, accumulated in double; 0 when n = 0.
double mean_square(const float* x, size_t n);

// Audible extent [*begin, *end) of a clip in samples: from the first to the last 10 ms frame
// whose energy is within 30 dB of the clip's loudest frame (and above -70 dBFS); the whole
// clip when no frame qualifies.
void audible_extent(const float* clip, size_t n, int sample_rate, size_t* begin, size_t* end);
void audible_extent(const std::vector<float>& clip, int sample_rate, size_t* begin, size_t* end);

// Power of the audible extent of a clip (mean_square over audible_extent).
double speech_power(const float* clip, size_t n, int sample_rate);

// Gain to apply to noise of power noise_power so that speech_power / (gain^2 noise_power) is
// snr_db; 0 when either power is 0.
double snr_gain(double speech_power, double noise_power, double snr_db);

}  // namespace tkws
