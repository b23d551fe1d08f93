#include "tinykws/audio/level.h"

#include <algorithm>
#include <cmath>

namespace tkws {

double mean_square(const float* x, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return n ? s / static_cast<double>(n) : 0.0;
}

void audible_extent(const float* clip, size_t n, int sample_rate, size_t* begin, size_t* end) {
  const size_t frame = static_cast<size_t>(std::max(1, sample_rate / 100));  // 10 ms
  const size_t frames = n / frame;
  std::vector<double> e(frames);
  double peak = 0.0;
  for (size_t f = 0; f < frames; ++f) {
    e[f] = mean_square(clip + f * frame, frame);
    peak = std::max(peak, e[f]);
  }
  const double floor = std::max(peak * 1e-3, 1e-7);  // 30 dB below the peak, >= -70 dBFS
  size_t first = frames, last = 0;
  if (peak > 1e-7)
    for (size_t f = 0; f < frames; ++f)
      if (e[f] >= floor) first = std::min(first, f), last = f;
  if (first == frames) {
    *begin = 0, *end = n;
    return;
  }
  *begin = first * frame;
  *end = std::min(n, (last + 1) * frame);
}

void audible_extent(const std::vector<float>& clip, int sample_rate, size_t* begin, size_t* end) {
  audible_extent(clip.data(), clip.size(), sample_rate, begin, end);
}

double speech_power(const float* clip, size_t n, int sample_rate) {
  size_t b = 0, e = n;
  audible_extent(clip, n, sample_rate, &b, &e);
  return mean_square(clip + b, e - b);
}

double snr_gain(double speech_power, double noise_power, double snr_db) {
  if (!(speech_power > 0.0) || !(noise_power > 0.0)) return 0.0;
  return std::sqrt(speech_power / (noise_power * std::pow(10.0, snr_db / 10.0)));
}

}  // namespace tkws
