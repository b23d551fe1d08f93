// KwsPipeline: clip -> front end -> normalisation -> network -> class probabilities, built
// from a Model alone (the file carries the front-end settings, normalisation and labels).
// The network runs on the float Interpreter, or on Int8Network for an int8 model.
// create() allocates everything (front-end buffers, interpreter weights, the arena, a feature
// buffer); features(), network() and run() allocate nothing and never throw.
// Thread-compatible: one pipeline per thread.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "tinykws/format/model.h"
#include "tinykws/frontend/frontend.h"
#include "tinykws/runtime/int8_network.h"
#include "tinykws/runtime/interpreter.h"
#include "tinykws/runtime/status.h"

namespace tkws {

class KwsPipeline {
 public:
  KwsPipeline();
  ~KwsPipeline();
  KwsPipeline(const KwsPipeline&) = delete;
  KwsPipeline& operator=(const KwsPipeline&) = delete;
  KwsPipeline(KwsPipeline&&) noexcept;
  KwsPipeline& operator=(KwsPipeline&&) noexcept;

  // Validates the model (kInvalidModel with check_model's message) and builds everything.
  // opt.kernels == kReference also selects Int8Network's reference kernels for int8 models.
  Status create(const Model& m, const InterpreterOptions& opt = {});
  bool ready() const { return frontend_ != nullptr; }

  // clip: clip_samples() floats, int16 / 32768 scale (as read from a WAV; the front end applies
  // the model's pcm_divisor). feats: num_frames() x num_features() floats, row-major,
  // normalised: (x - norm_mean[k]) * norm_inv_std[k].
  Status features(const float* clip, float* feats) noexcept;
  // feats as above -> probs: num_labels() floats (the last op's output, normally Softmax).
  Status network(const float* feats, float* probs) noexcept;
  // Both: clip -> probs, through an internal feature buffer.
  Status run(const float* clip, float* probs) noexcept;
  // The normalisation of features() on n rows of num_features() floats, in place.
  void normalise(float* rows, int n) const noexcept;
  // The front end in use (ready() only), e.g. for Frontend::compute_frames.
  Frontend& frontend() { return *frontend_; }

  int num_labels() const { return static_cast<int>(labels_.size()); }
  int num_frames() const { return num_frames_; }
  int num_features() const { return num_features_; }
  int clip_samples() const { return clip_samples_; }
  size_t arena_bytes() const { return int8_ ? int8_net_.arena_bytes() : interp_.arena_bytes(); }
  // For a caller that runs the network on memory of its own (the streaming detector's
  // RowReuseNetwork, which keeps the weights here): frees the arena and the clip feature buffer.
  // network() and run() then return kNotPrepared; features() and the front end still work.
  void release_network_memory();
  // Bytes the pipeline holds for the arena and the clip feature buffer (0 once released).
  size_t buffer_bytes() const {
    return (arena_storage_.capacity() + feats_.capacity()) * sizeof(float);
  }
  const std::vector<std::string>& labels() const { return labels_; }
  bool is_int8() const { return int8_; }  // network on Int8Network (else on Interpreter)
  // The network runner in use, e.g. to set a step hook.
  Interpreter& interpreter() { return interp_; }
  const Interpreter& interpreter() const { return interp_; }
  Int8Network& int8_network() { return int8_net_; }
  const Int8Network& int8_network() const { return int8_net_; }

 private:
  std::unique_ptr<Frontend> frontend_;
  std::vector<std::string> labels_;
  std::vector<float> mean_, inv_std_;  // empty = identity
  Interpreter interp_;                 // float models
  Int8Network int8_net_;               // int8 models
  bool int8_ = false;
  std::vector<float> arena_storage_;
  float* arena_ = nullptr;  // 64-byte aligned, inside arena_storage_
  std::vector<float> feats_;
  int num_frames_ = 0, num_features_ = 0, clip_samples_ = 0;
};

}  // namespace tkws
