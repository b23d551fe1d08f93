// StreamDetector: keyword detection on an unbounded stream of samples (docs/architecture.md).
//
//   push(samples) -> sample buffer -> the front end on new frames only (Frontend::
//   compute_frames), normalised rows into a feature ring -> every hop_frames frames, once a
//   clip's worth of frames exists: the network on the last num_frames rows -> StreamDecider
//   (stream_decider.h: smoothing, thresholds for N hops, refractory) -> events.
//
// Window geometry: frame t covers samples [t S, t S + L) (S = frame_step, L = frame_length).
// The network runs when frame count T reaches F + k hop_frames (F = num_frames, k >= 0), on
// frames [T - F, T): exactly what KwsPipeline::run computes on the clip starting at sample
// (T - F) S. The event's time is that clip's end, (T - F) S + clip_samples, in seconds of
// audio from the start of the stream (for the default front end, the last sample pushed).
//
// Energy gate (DetectorSettings::gate): a frame is loud when the mean square of its L samples
// (samples in [-1, 1)) is >= 10^(gate_dbfs / 10); speech starts after min-speech frames in a
// row are loud and lasts until hang-over frames after the last loud frame; a hop with no
// speech frame skips the network (StreamDecider::push_gated).
//
// create() allocates everything; push() and reset() allocate nothing, never throw, and take
// any number of samples (0 included). No I/O: samples come from the caller (the CLI reads
// files, stdin or ALSA). Thread-compatible: one detector per thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tinykws/format/model.h"
#include "tinykws/runtime/pipeline.h"
#include "tinykws/runtime/row_reuse.h"
#include "tinykws/runtime/status.h"
#include "tinykws/runtime/stream_decider.h"

namespace tkws {

struct DetectionEvent {
  int label = -1;          // index into Model::labels; always a keyword
  float score = 0.0f;      // its smoothed score at the hop that fired
  int64_t end_sample = 0;  // end of the window that fired, samples from the stream start
  double time_s = 0.0;     // end_sample / sample_rate
};

// Every hop, fired or not (for stream-eval's threshold sweep and for tests).
struct HopInfo {
  int64_t end_sample = 0;
  double time_s = 0.0;
  bool ran = false;                 // false: the gate was closed and the network skipped
  const float* scores = nullptr;    // [num_labels] network output (ran only)
  const float* smoothed = nullptr;  // [num_labels] after this hop
  int fired = -1;                   // label that fired at this hop, or -1
};

class StreamDetector {
 public:
  using EventFn = void (*)(void* user, const DetectionEvent& e);
  using HopFn = void (*)(void* user, const HopInfo& h);

  // Validates the model and the settings (check_model / DetectorSettings::check: an invalid
  // model or settings give kInvalidModel / kInvalidArgument with the message) and allocates.
  // The settings are usually m.detector with the caller's overrides. reuse_activations: when
  // the hop allows it (the network's time strides divide the hop's frames; float or int8),
  // consecutive hops that both run the network recompute only the activation rows that
  // changed (row_reuse.h: the same scores, bit-identical except in the last bits on 32-bit ARM
  // float).
  Status create(const Model& m, const DetectorSettings& s, const InterpreterOptions& opt = {},
                bool reuse_activations = true);
  bool ready() const { return pipe_.ready(); }

  // Appends n samples (int16 / 32768 scale, as read from a WAV) at the model's sample rate.
  // Calls on_event (if set) for each detection, in order, before returning.
  Status push(const float* samples, size_t n, EventFn on_event = nullptr,
              void* user = nullptr) noexcept;
  // Called at every hop from inside push(); nullptr to stop.
  void set_hop_hook(HopFn fn, void* user) { hop_fn_ = fn, hop_user_ = user; }
  // Back to the state after create(): a new stream starts at sample 0.
  void reset() noexcept;

  int sample_rate() const { return sample_rate_; }
  int hop_frames() const { return hop_frames_; }
  int hop_samples() const { return hop_frames_ * frame_step_; }
  double hop_ms() const { return 1000.0 * hop_samples() / sample_rate_; }
  int num_labels() const { return pipe_.num_labels(); }
  const std::vector<std::string>& labels() const { return pipe_.labels(); }
  const DeciderConfig& decider_config() const { return decider_.config(); }
  const DetectorSettings& settings() const { return settings_; }
  int64_t samples_pushed() const { return samples_pushed_; }
  int64_t hops() const { return hops_; }
  int64_t network_runs() const { return runs_; }
  // Activations are reused between hops (create's reuse_activations, and the geometry allows it).
  bool reuses_activations() const { return reuse_.reuses() || reuse8_.reuses(); }
  // Bytes of the streaming state: sample buffer, feature ring, scores, decider, and either the
  // pipeline's network arena and clip buffer or, when activations are reused, the reusing network's
  // rings and buffers (the arena is then freed). Not the weights and front-end tables, which
  // KwsPipeline holds for single clips too.
  size_t state_bytes() const;

 private:
  void process_frames(EventFn on_event, void* user) noexcept;
  void hop(EventFn on_event, void* user) noexcept;

  KwsPipeline pipe_;
  RowReuseNetwork reuse_;       // float models; reuses() false: not used
  RowReuseInt8Network reuse8_;  // int8 models; neither reuses: pipe_.network() each hop
  bool continues_ = false;      // the previous hop ran the network: this window is its, moved
  StreamDecider decider_;
  DetectorSettings settings_;
  int sample_rate_ = 0, frame_length_ = 0, frame_step_ = 0, num_frames_ = 0, num_features_ = 0;
  int clip_samples_ = 0, hop_frames_ = 1, chunk_frames_ = 1;
  std::vector<float> buf_;  // samples of the frames not yet computed; buf_[0] = frame done_'s
  size_t buf_len_ = 0;
  // [2 F][num_features]: frame t at rows t % F and t % F + F; with shift_kept_rows
  // (InterpreterOptions) [F][num_features], the last F frames in order.
  std::vector<float> ring_;
  bool shift_ring_ = false;
  std::vector<float> chunk_;  // [kChunkFrames][num_features]: compute_frames output
  std::vector<float> scores_;
  int64_t done_ = 0;      // frames computed
  int64_t next_run_ = 0;  // frame count at which the network runs next
  int64_t samples_pushed_ = 0, hops_ = 0, runs_ = 0;
  // Energy gate state, in frames.
  float gate_sum_ = 0.0f;  // the gate's threshold on a frame's sum of squares
  int gate_min_frames_ = 1, gate_hang_frames_ = 0, loud_run_ = 0;
  int64_t speech_until_ = -1;  // last frame of the current speech (-1: none yet)
  bool speech_in_hop_ = false;
  HopFn hop_fn_ = nullptr;
  void* hop_user_ = nullptr;
};

}  // namespace tkws
