// Streams of mono float samples (int16 / 32768 scale) at a chosen rate, read block by block
// for `tinykws listen` / `stream-eval`: an audio file (libsndfile, any length, channels mixed
// down), raw signed 16-bit little-endian PCM from a file descriptor (stdin), and ALSA capture
// (alsa_capture.h). Sources at another rate go through StreamResampler (libsoxr, streaming).
// Host side: errors are InputError naming the source.
#pragma once
#include <csignal>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace tkws {

// libsoxr in streaming mode, mono float32, high quality (as read_audio's one-shot resample()).
// The output is aligned with the input (no leading filter delay).
class StreamResampler {
 public:
  StreamResampler(int from_rate, int to_rate);  // throws std::invalid_argument on bad rates
  ~StreamResampler();
  StreamResampler(const StreamResampler&) = delete;
  StreamResampler& operator=(const StreamResampler&) = delete;
  // Appends the output for n input samples to *out; with in == nullptr (n ignored), flushes
  // the samples still inside the filter (call once at the end).
  void process(const float* in, size_t n, std::vector<float>* out);

 private:
  void* soxr_ = nullptr;  // soxr_t
  double ratio_ = 1.0;
};

class SampleSource {
 public:
  virtual ~SampleSource() = default;
  // Up to `max` samples at the target rate into `out`; 0 only at the end of the stream.
  // Blocks until samples are available (stdin, a device). Throws InputError for bad input.
  virtual size_t read(float* out, size_t max) = 0;
  virtual int source_rate() const = 0;       // Hz of the audio before resampling
  virtual std::string describe() const = 0;  // e.g. "rec.wav (44100 Hz, 2 channels)"
};

// Opens `path` with libsndfile. InputError as read_audio (missing, not audio, 0 frames).
std::unique_ptr<SampleSource> open_audio_file(const std::string& path, int target_rate);

// Raw s16le mono from `fd` (not closed) at `rate` Hz, resampled to target_rate. `name` names
// the source in errors (e.g. "stdin"). A stream ending inside a sample (an odd byte count) is
// an InputError at the end. read() returns 0 early when *stop becomes non-zero (EINTR from a
// signal), if stop is given.
std::unique_ptr<SampleSource> open_raw_s16(int fd, const std::string& name, int rate,
                                           int target_rate,
                                           const volatile std::sig_atomic_t* stop = nullptr);

// Shared by the sources: interleaved frames -> mono (mean), resampled when the rates differ.
// Holds the converted samples not yet read.
class MonoQueue {
 public:
  MonoQueue(int from_rate, int to_rate);
  void push_interleaved(const float* x, size_t frames, int channels);
  void finish();  // flushes the resampler (once)
  size_t pop(float* out, size_t max);
  size_t size() const { return q_.size() - head_; }

 private:
  std::unique_ptr<StreamResampler> rs_;
  std::vector<float> mono_, q_;
  size_t head_ = 0;
  bool finished_ = false;
};

}  // namespace tkws
