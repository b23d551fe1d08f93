// What `tinykws listen` does with a detection besides printing it: run a command without
// stalling the audio loop (--exec), and save the detection's audio with pre-roll as a WAV
// (--save-detections). Host side (posix_spawn, libsndfile).
#pragma once
#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tinykws/audio/stream_source.h"
#include "tinykws/runtime/detector.h"

namespace tkws::cli {

// Runs `/bin/sh -c CMD` per detection with TINYKWS_LABEL, TINYKWS_SCORE and TINYKWS_TIME in
// its environment, via posix_spawn (no wait): the child's stdout goes to our stderr so that
// stdout stays one line per detection. reap() collects finished children without blocking;
// wait_all() waits for the rest (end of listen). A command that exits non-zero is reported on
// stderr.
class CommandRunner {
 public:
  explicit CommandRunner(std::string command) : command_(std::move(command)) {}
  ~CommandRunner() { wait_all(); }
  void run(const std::string& label, float score, double time_s);
  void reap();
  void wait_all();
  int started() const { return started_; }
  int failed() const { return failed_; }

 private:
  void finished(pid_t pid, int status);
  std::string command_;
  std::vector<pid_t> running_;
  int started_ = 0, failed_ = 0;
};

// The last `capacity` samples of the stream (model rate), to cut a detection's audio out of.
class AudioHistory {
 public:
  explicit AudioHistory(size_t capacity) : ring_(capacity) {}
  void append(const float* x, size_t n);
  // Samples [from, to) of the stream, clipped to what is still held.
  std::vector<float> slice(int64_t from, int64_t to) const;
  int64_t end() const { return total_; }

 private:
  std::vector<float> ring_;
  int64_t total_ = 0;
};

// Writes DIR/NNNN_<label>_<time ms>ms.wav (atomically: temporary file, then rename): the
// window that fired with `pre_roll_s` before it. Returns the path.
std::string save_detection(const std::string& dir, int index, const std::string& label,
                           const DetectionEvent& e, const AudioHistory& h, int sample_rate,
                           int clip_samples, double pre_roll_s);

// Reads `src` block by block into `det` until the end, max_samples (> 0) or *stop; after each
// block calls after_block(samples, n, detections of that block). Returns the samples pushed.
int64_t pump_stream(SampleSource& src, StreamDetector& det, int64_t max_samples,
                    const volatile std::sig_atomic_t* stop,
                    const std::function<void(const float*, size_t,
                                             const std::vector<DetectionEvent>&)>& after_block);

}  // namespace tkws::cli
