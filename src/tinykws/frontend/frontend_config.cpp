#include "tinykws/frontend/frontend_config.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace tkws {

int FrontendConfig::effective_fft_length() const {
  if (fft_length > 0) return fft_length;
  int n = 1;
  while (n < frame_length) n <<= 1;
  return n;
}

int FrontendConfig::num_frames() const {
  if (frame_step <= 0 || frame_length <= 0 || clip_samples < frame_length) return 0;
  return 1 + (clip_samples - frame_length) / frame_step;  // tf.signal.frame, pad_end=False
}

int FrontendConfig::seconds_to_samples(double seconds, int rate) {
  return static_cast<int>(std::lround(seconds * rate));
}

namespace {
// kissfft handles radices 2, 3, 4 and 5 in place; a larger prime factor takes its generic
// butterfly, which mallocs scratch on every call (and is slow). Frontend::compute() must not
// allocate, so fft_length is limited to 2^a 3^b 5^c (640 = 2^7 5 and 405 = 3^4 5 are fine).
bool factors_2_3_5(int n) {
  for (int p : {2, 3, 5})
    while (n % p == 0) n /= p;
  return n == 1;
}

std::string range_msg(const char* field, double v, const std::string& range) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return std::string("frontend.") + field + " = " + buf + " must be " + range;
}
}  // namespace

std::string FrontendConfig::check() const {
  if (sample_rate < 1000 || sample_rate > 192000)
    return range_msg("sample_rate", sample_rate, "in [1000, 192000] Hz");
  if (clip_samples < 1 || clip_samples > 10 * 192000)
    return range_msg("clip_samples", clip_samples, "in [1, 10 s of samples]");
  // frame_length <= 65536 keeps the automatic fft_length within the same bound as an explicit one.
  if (frame_length < 2 || frame_length > clip_samples || frame_length > 65536)
    return range_msg(
        "frame_length", frame_length,
        "in [2, min(clip_samples = " + std::to_string(clip_samples) + ", 65536)] samples");
  if (frame_step < 1 || frame_step > clip_samples)
    return range_msg("frame_step", frame_step, "in [1, clip_samples] samples");
  if (fft_length != 0 &&
      (fft_length < frame_length || fft_length > 65536 || !factors_2_3_5(fft_length)))
    return range_msg("fft_length", fft_length,
                     "0 (auto) or in [frame_length = " + std::to_string(frame_length) +
                         ", 65536] with no prime factor above 5");
  if (num_mel_bins < 1 || num_mel_bins > num_bins())
    return range_msg("num_mel_bins", num_mel_bins,
                     "in [1, fft_length / 2 + 1 = " + std::to_string(num_bins()) + "]");
  if (!(lower_hz >= 0.0f) || !std::isfinite(lower_hz))
    return range_msg("lower_hz", lower_hz, ">= 0 Hz");
  if (!(upper_hz > lower_hz) || upper_hz > sample_rate / 2.0f)
    return range_msg("upper_hz", upper_hz,
                     "in (lower_hz, sample_rate / 2 = " + std::to_string(sample_rate / 2) + "] Hz");
  if (kind != FeatureKind::kLogMel && kind != FeatureKind::kMfcc)
    return range_msg("kind", static_cast<int>(kind), "logmel or mfcc");
  if (kind == FeatureKind::kMfcc && (num_mfcc < 1 || num_mfcc > num_mel_bins))
    return range_msg("num_mfcc", num_mfcc,
                     "in [1, num_mel_bins = " + std::to_string(num_mel_bins) + "]");
  if (spectrum != SpectrumKind::kMagnitude && spectrum != SpectrumKind::kPower)
    return range_msg("spectrum", static_cast<int>(spectrum), "magnitude or power");
  if (!(log_offset > 0.0f) || !std::isfinite(log_offset))
    return range_msg("log_offset", log_offset, "finite and > 0");
  if (!(pcm_divisor > 0.0f) || !std::isfinite(pcm_divisor))
    return range_msg("pcm_divisor", pcm_divisor, "finite and > 0");
  return {};
}

}  // namespace tkws
