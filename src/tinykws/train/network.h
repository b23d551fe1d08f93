// The trainable network (libtorch), built from [model] layer specs, and its export to the
// runtime's Model IR. Internal to train/: includes torch headers.
//
// Tensors are NCHW: input [batch][1][frames][features]. TF "same" padding is reproduced
// exactly (asymmetric, extra row/column at the bottom/right), so the exported graph computes
// what was trained.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "tinykws/config/config.h"
#include "tinykws/format/model.h"

namespace tkws {

struct BuiltLayer {
  LayerSpec spec;
  int in_c = 0, in_h = 0, in_w = 0;  // input activation shape
  int out_c = 0, out_h = 0, out_w = 0;
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::Linear dense{nullptr};
};

class KwsNetImpl : public torch::nn::Module {
 public:
  // Parameters are initialised from torch's global generator (seed it first): Glorot-uniform
  // kernels and zero biases (the Keras defaults the reference reports trained with).
  KwsNetImpl(const ModelConfig& cfg, int frames, int features, int num_labels);
  // x: [B][1][frames][features] -> logits [B][num_labels] (softmax layers are skipped: the
  // loss works on logits; export adds the softmax).
  torch::Tensor forward(torch::Tensor x);
  // Layer i alone: its input -> its output (forward() is every layer in turn). A softmax layer
  // passes the logits through. For layer-by-layer comparisons with the runtime.
  torch::Tensor forward_layer(size_t i, torch::Tensor x);

  const std::vector<BuiltLayer>& layers() const { return layers_; }
  std::vector<BuiltLayer>& mutable_layers() { return layers_; }  // compression swaps weights
  int64_t num_parameters() const;

  // Appends the ops and tensors of this network (eval-mode semantics: BN as scale/shift from
  // running statistics, dropout removed, a final softmax) to `m`.
  void export_to(Model& m) const;

 private:
  std::vector<BuiltLayer> layers_;
};
TORCH_MODULE(KwsNet);

// Flattened copies of every parameter and buffer (in registration order), for EMA, the best
// checkpoint and determinism checks.
std::vector<torch::Tensor> snapshot_state(torch::nn::Module& m);
void load_state(torch::nn::Module& m, const std::vector<torch::Tensor>& state);

}  // namespace tkws
