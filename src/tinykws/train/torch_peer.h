// The libtorch twin of a runtime Model, for peer comparisons (bench/bench_peers): the training
// network (KwsNet, eager, eval mode) and a libtorch front end (torch::stft, mel matmul, log,
// DCT matmul). Torch-free header: callers see only std types and opaque handles, so they
// compile without libtorch headers; the implementation (torch_peer.cpp) is in the train module.
//
// Every call runs under c10::InferenceMode. Feature inputs are [frames * features] floats
// (row-major, one clip, batch 1), as the runtime's KwsPipeline::network takes them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tinykws/config/config.h"
#include "tinykws/format/model.h"

namespace tkws {

// libtorch's intra- and inter-op thread counts (call before any torch work).
void torch_set_num_threads(int intra_op, int inter_op);

class TorchFrontend;

// A KwsNet in eval mode. Default-constructed / moved-from: empty (operator bool is false).
class TorchNet {
 public:
  TorchNet();
  TorchNet(TorchNet&&) noexcept;
  TorchNet& operator=(TorchNet&&) noexcept;
  ~TorchNet();

  // A network of `cfg` with random weights, appended (export_to: ops, tensors, final softmax)
  // to `out`. torch's global generator is seeded with `seed`; the parameters get KwsNet's
  // initialisation, then, from the same generator, non-trivial BatchNorm statistics (running
  // mean U[-0.5, 0.5), running var U[0.5, 2)), BN gammas U[0.5, 1.5) and biases U[-0.3, 0.3).
  static TorchNet random(const ModelConfig& cfg, int frames, int features, int num_labels,
                         uint64_t seed, Model& out);

  // The twin of the float model `m` read from `model_path`: the KwsNet of the run folder's
  // config.toml (next to the file, as `tinykws train --out` leaves it) with the file's weights
  // loaded by the exporter's names ("layer<i>.weight", ...). BatchNorm comes back as gamma =
  // scale, beta = shift, mean 0, var 1 - eps (what the stored inference form computes).
  // Returns an empty TorchNet and sets *error when there is none (int8 model, no
  // config.toml, a config that does not match the file, ...).
  static TorchNet twin(const std::string& model_path, const Model& m, std::string* error);

  explicit operator bool() const { return impl_ != nullptr; }
  int frames() const;
  int features() const;

  struct Output {
    std::vector<float> logits, probs;  // [num_labels]
  };
  // Logits (forward) and softmax(logits) of x [frames * features].
  Output forward(const float* x) const;
  // softmax(forward(x)) without copying it out (for timing: the result is computed and
  // dropped, as torch::softmax(net->forward(x), 1) in a loop).
  void probs_discard(const float* x) const;

  // Clip -> probabilities on libtorch: fe's features of clip [samples], then the network.
  struct ClipOutput {
    std::vector<float> features, probs;
  };
  ClipOutput run_clip(const TorchFrontend& fe, const float* clip, size_t samples) const;
  void run_clip_discard(const TorchFrontend& fe, const float* clip, size_t samples) const;

  struct Impl;

 private:
  explicit TorchNet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The reference pipeline's front end on libtorch, on the settings of m.frontend (and m's
// normalisation): tf.signal semantics, i.e. frames without centring, periodic Hann, |rfft|
// (or its square), HTK-mel triangles (linear_to_mel_weight_matrix, DC row zero),
// ln(mel + offset), DCT-II * sqrt(2 / M) for MFCCs, then (x - mean) * inv_std.
class TorchFrontend {
 public:
  explicit TorchFrontend(const Model& m);
  TorchFrontend(TorchFrontend&&) noexcept;
  TorchFrontend& operator=(TorchFrontend&&) noexcept;
  ~TorchFrontend();

  // Non-empty when m's front end is not supported here (then nothing else may be called).
  const std::string& error() const;
  // Normalised features of clip [samples]: [frames * coefficients].
  std::vector<float> features(const float* clip, size_t samples) const;
  void features_discard(const float* clip, size_t samples) const;  // computed and dropped

  struct Impl;

 private:
  friend class TorchNet;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tkws
