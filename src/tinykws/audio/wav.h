// WAV (and anything else libsndfile reads) to a mono float clip at a target rate.
#pragma once
#include <string>
#include <vector>

namespace tkws {

struct AudioInfo {
  int sample_rate = 0;  // Hz, as stored in the file
  int channels = 0;
  long long frames = 0;  // samples per channel in the file
};

// Sample rates read_audio accepts (Hz); other values in a header are an InputError.
inline constexpr int kMinSampleRate = 1000;
inline constexpr int kMaxSampleRate = 768000;

// Reads `path` with libsndfile as float (int16 s -> s / 32768), mixes channels down to mono
// (mean), resamples to `target_rate` with libsoxr (high quality) when the rates differ.
// Throws InputError("<path>: <reason>") when the file is missing, not audio, truncated,
// empty, or has a sample rate outside [kMinSampleRate, kMaxSampleRate]. `info` (optional) receives
// what the file held. Truncation: libsndfile clamps a WAV's too-large data size to the bytes
// present, so the RIFF header's data size is also checked ("truncated: header says N frames, file
// holds M"). Float files are passed through unscaled; NaN/Inf samples are an InputError.
std::vector<float> read_audio(const std::string& path, int target_rate, AudioInfo* info = nullptr);

// Zero-pads at the end or cuts to exactly `length` samples (REFERENCE.md §2).
void fit_length(std::vector<float>& samples, int length);

// Resamples mono float audio with libsoxr (SOXR_HQ, one shot; used by read_audio, exposed for
// tests). Output length is round(n * to_rate / from_rate). Rates must be > 0.
std::vector<float> resample(const std::vector<float>& in, int from_rate, int to_rate);

// Writes mono int16 PCM WAV via libsndfile (test fixtures, `tinykws` tools). Throws on error.
// x -> round(x * 32768) clipped to [-32768, 32767]: read_audio gives k / 32768 back exactly.
void write_wav_pcm16(const std::string& path, const std::vector<float>& samples, int rate);

}  // namespace tkws
