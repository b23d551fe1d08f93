#include "tinykws/runtime/detector.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tkws {
namespace {

// Frames per compute_frames call at most: the batched front end computes 8 frames per call
// (frontend.cpp, kLanes), so larger chunks gain nothing and cost buffer.
constexpr int kChunkFrames = 8;

int ms_to_units(double ms, double unit_ms) {
  return static_cast<int>(std::lround(ms / unit_ms));
}

// Sum of squares of n samples, in float: 8 partial sums, which the compiler keeps in vector
// lanes. A Cortex-M4F's FPU has no double precision: summing in double there called the
// soft-float library three times per sample, about a quarter of a hop's instructions. The
// relative error (< n * 2^-24) moves the level by less than 0.001 dB.
float sum_of_squares(const float* x, size_t n) noexcept {
  float part[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t j = 0; j < 8; ++j) part[j] += x[i + j] * x[i + j];
  float sum = 0.0f;
  for (; i < n; ++i) sum += x[i] * x[i];
  for (float p : part) sum += p;
  return sum;
}

}  // namespace

Status StreamDetector::create(const Model& m, const DetectorSettings& s,
                              const InterpreterOptions& opt, bool reuse_activations) {
  *this = StreamDetector();
  if (std::string e = s.check(); !e.empty())
    return Status::Error(StatusCode::kInvalidArgument, "%s", e.c_str());
  if (!s.thresholds.empty() && s.thresholds.size() != m.labels.size())
    return Status::Error(StatusCode::kInvalidArgument,
                         "detector.thresholds: expected 0 or %zu values, found %zu",
                         m.labels.size(), s.thresholds.size());
  if (Status st = pipe_.create(m, opt); !st.ok()) return st;
  const FrontendConfig& f = m.frontend;
  settings_ = s;
  sample_rate_ = f.sample_rate, frame_length_ = f.frame_length, frame_step_ = f.frame_step;
  num_frames_ = f.num_frames(), num_features_ = f.num_features();
  clip_samples_ = f.clip_samples;
  const double step_ms = 1000.0 * frame_step_ / sample_rate_;
  hop_frames_ = std::max(1, ms_to_units(s.hop_ms, step_ms));
  chunk_frames_ = std::min(kChunkFrames, hop_frames_);
  if (reuse_activations && hop_frames_ < num_frames_) {
    if (pipe_.is_int8()) {
      if (Status st = reuse8_.create(pipe_.int8_network(), hop_frames_, opt.shift_kept_rows);
          !st.ok())
        return st;
      if (!reuse8_.reuses()) reuse8_ = RowReuseInt8Network();  // nothing to keep: no rings
    } else {
      if (Status st = reuse_.create(pipe_.interpreter(), hop_frames_, opt.shift_kept_rows);
          !st.ok())
        return st;
      if (!reuse_.reuses()) reuse_ = RowReuseNetwork();
    }
    // The reusing network has buffers of its own: the pipeline's arena would sit unused.
    if (reuses_activations()) pipe_.release_network_memory();
  }
  DeciderConfig dc = DeciderConfig::from_settings(m, s, hop_frames_ * step_ms);
  if (Status st = decider_.init(dc); !st.ok()) return st;
  buf_.assign(static_cast<size_t>(frame_length_) + size_t{kChunkFrames} * frame_step_, 0.0f);
  shift_ring_ = opt.shift_kept_rows;
  ring_.assign(size_t{shift_ring_ ? 1u : 2u} * num_frames_ * num_features_, 0.0f);
  chunk_.assign(size_t{kChunkFrames} * num_features_, 0.0f);
  scores_.assign(m.labels.size(), 0.0f);
  gate_sum_ = static_cast<float>(std::pow(10.0, s.gate_dbfs / 10.0) * frame_length_);
  gate_min_frames_ = std::max(1, ms_to_units(s.gate_min_speech_ms, step_ms));
  gate_hang_frames_ = ms_to_units(s.gate_hangover_ms, step_ms);
  reset();
  return Status::Ok();
}

void StreamDetector::reset() noexcept {
  decider_.reset();
  buf_len_ = 0;
  done_ = 0;
  next_run_ = num_frames_;
  samples_pushed_ = hops_ = runs_ = 0;
  loud_run_ = 0;
  speech_until_ = -1;
  speech_in_hop_ = false;
  continues_ = false;
}

Status StreamDetector::push(const float* samples, size_t n, EventFn on_event, void* user) noexcept {
  if (!ready()) return Status::Error(StatusCode::kNotPrepared, "detector not created");
  if (n > 0 && samples == nullptr)
    return Status::Error(StatusCode::kInvalidArgument, "null samples");
  samples_pushed_ += static_cast<int64_t>(n);
  while (n > 0) {
    const size_t take = std::min(n, buf_.size() - buf_len_);
    std::memcpy(buf_.data() + buf_len_, samples, take * sizeof(float));
    buf_len_ += take, samples += take, n -= take;
    process_frames(on_event, user);
  }
  return Status::Ok();
}

// Computes every frame the buffer holds, in chunks that stop at each hop, then drops the
// samples no later frame needs.
void StreamDetector::process_frames(EventFn on_event, void* user) noexcept {
  const size_t L = static_cast<size_t>(frame_length_), S = static_cast<size_t>(frame_step_);
  size_t first = 0;  // buffer offset of frame done_
  while (buf_len_ - first >= L) {
    const int64_t avail = static_cast<int64_t>((buf_len_ - first - L) / S) + 1;
    const int k = static_cast<int>(std::min<int64_t>({avail, chunk_frames_, next_run_ - done_}));
    const float* x = buf_.data() + first;
    // Energy gate, per frame (not computed when the gate is off: every hop runs).
    for (int j = 0; settings_.gate && j < k; ++j) {
      const float* fr = x + static_cast<size_t>(j) * S;
      const float sq = sum_of_squares(fr, L);
      const int64_t t = done_ + j;
      loud_run_ = sq >= gate_sum_ ? loud_run_ + 1 : 0;
      if (loud_run_ >= gate_min_frames_) speech_until_ = t + gate_hang_frames_;
      speech_in_hop_ = speech_in_hop_ || t <= speech_until_;
    }
    // Features of frames done_ .. done_ + k - 1 into both copies of the ring (or, shifted,
    // below the last F - k rows, which move up).
    const size_t F = static_cast<size_t>(num_frames_), nf = static_cast<size_t>(num_features_);
    pipe_.frontend().compute_frames(x, k, chunk_.data());
    pipe_.normalise(chunk_.data(), k);
    if (shift_ring_) {
      const size_t kk = std::min(static_cast<size_t>(k), F);
      std::memmove(ring_.data(), ring_.data() + kk * nf, (F - kk) * nf * sizeof(float));
      std::memcpy(ring_.data() + (F - kk) * nf, chunk_.data() + (k - kk) * nf,
                  kk * nf * sizeof(float));
    } else {
      for (int j = 0; j < k; ++j) {
        float* row = ring_.data() + (static_cast<size_t>(done_ + j) % F) * nf;
        const float* src = chunk_.data() + static_cast<size_t>(j) * nf;
        std::memcpy(row, src, nf * sizeof(float));
        std::memcpy(row + F * nf, src, nf * sizeof(float));
      }
    }
    done_ += k;
    first += static_cast<size_t>(k) * S;
    if (done_ == next_run_) {
      hop(on_event, user);
      next_run_ += hop_frames_;
    }
  }
  if (first > 0) {
    buf_len_ -= first;
    std::memmove(buf_.data(), buf_.data() + first, buf_len_ * sizeof(float));
  }
}

void StreamDetector::hop(EventFn on_event, void* user) noexcept {
  ++hops_;
  const int64_t start = (done_ - num_frames_) * frame_step_;
  HopInfo h;
  h.end_sample = start + clip_samples_;
  h.time_s = static_cast<double>(h.end_sample) / sample_rate_;
  h.ran = !settings_.gate || speech_in_hop_;
  speech_in_hop_ = false;
  float score = 0.0f;
  if (h.ran) {
    const size_t first_row =
        shift_ring_ ? 0 : static_cast<size_t>(done_ - num_frames_) % num_frames_;
    const float* window = ring_.data() + first_row * num_features_;
    bool ok = true;
    if (reuse_.reuses())
      reuse_.invoke(window, scores_.data(), continues_);
    else if (reuse8_.reuses())
      reuse8_.invoke(window, scores_.data(), continues_);
    else
      ok = pipe_.network(window, scores_.data()).ok();
    continues_ = ok;
    if (ok) {
      ++runs_;
      h.scores = scores_.data();
      h.fired = decider_.push(scores_.data(), &score);
    } else {
      h.ran = false;
    }
  }
  if (!h.ran) {
    decider_.push_gated();
    continues_ = false;
  }
  h.smoothed = decider_.smoothed();
  if (hop_fn_) hop_fn_(hop_user_, h);
  if (h.fired >= 0 && on_event) {
    DetectionEvent e;
    e.label = h.fired, e.score = score, e.end_sample = h.end_sample, e.time_s = h.time_s;
    on_event(user, e);
  }
}

size_t StreamDetector::state_bytes() const {
  return (buf_.capacity() + ring_.capacity() + chunk_.capacity() + scores_.capacity()) *
             sizeof(float) +
         decider_.memory_bytes() + pipe_.buffer_bytes() + reuse_.state_bytes() +
         reuse8_.state_bytes();
}

}  // namespace tkws
