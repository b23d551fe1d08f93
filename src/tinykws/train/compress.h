// Magnitude pruning and weight clustering for KwsNet (libtorch), with tfmot semantics
// (docs/training.md). Internal to train/.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "tinykws/config/config.h"
#include "tinykws/train/network.h"

namespace tkws {

// A weight tensor that compression acts on: a conv / pwconv / dwconv / dense kernel.
struct CompressTarget {
  size_t layer = 0;  // index into KwsNet::layers()
  LayerKind kind = LayerKind::kConv;
  std::string name;      // "layer3.weight"
  torch::Tensor weight;  // the registered parameter (shared storage)
};

// Kernels selected by kind: conv and pwconv always; depthwise / dense when asked.
std::vector<CompressTarget> compress_targets(KwsNet& net, bool depthwise, bool dense);

// Mask keeping the k = max(round(n (1 - s)), 1) largest |w| (all ties at the threshold kept).
// With a block > 1x1 on a 2-D tensor, blocks are ranked by their mean |w| (partial edge blocks
// averaged over the elements they hold). Returns a float tensor of 0/1 shaped like w.
torch::Tensor magnitude_mask(const torch::Tensor& w, double sparsity, int block_h = 1,
                             int block_w = 1);

class Pruner {
 public:
  Pruner(const PruneConfig& cfg, KwsNet& net, int64_t total_steps, int64_t steps_per_epoch);
  // After optimizer step number `step` (0-based): updates the masks when
  // begin <= step <= end and (step - begin) % frequency == 0, then applies them.
  void after_step(int64_t step);
  void apply();                          // w *= mask for every target
  double target_at(int64_t step) const;  // scheduled sparsity
  double sparsity() const;               // measured: zeros / elements over all targets
  bool done(int64_t steps_done) const { return steps_done > end_; }  // masks are final
  int64_t begin() const { return begin_; }
  int64_t end() const { return end_; }
  std::vector<torch::Tensor>& masks() { return masks_; }

 private:
  PruneConfig cfg_;
  std::vector<CompressTarget> targets_;
  std::vector<torch::Tensor> masks_;
  int64_t begin_ = 0, end_ = 0;
};

// Clustered weights for fine-tuning: each target's forward weight is its centroids gathered by
// nearest-centroid assignment of the latent (registered) weight. The centroid gradient is the
// sum (or mean) of its members' gradients; the latent weight gets the same gradient straight
// through. With preserve_sparsity, elements that are zero stay on a fixed zero centroid.
class Clusterer {
 public:
  Clusterer(const ClusterConfig& cfg, KwsNet& net, uint64_t seed);
  std::vector<torch::Tensor> centroids() { return centroids_; }  // trainable, for the optimizer
  void before_forward();  // installs clustered weights into the layers (autograd-connected)
  // Writes the exact clustered values into the registered weights and reinstalls them as the
  // layers' weights (after fine-tuning, before export).
  void finalize();
  void restore_layers();  // layers use their registered parameters again (e.g. for evaluation)
  std::vector<torch::Tensor>& state() { return centroids_; }

 private:
  torch::Tensor clustered(size_t i, bool with_grad);
  ClusterConfig cfg_;
  KwsNet net_;
  std::vector<CompressTarget> targets_;
  std::vector<torch::Tensor> centroids_;  // [rows][k] (rows = 1 per tensor, or out channels)
  std::vector<torch::Tensor> nonzero_;    // preserve_sparsity: bool mask of non-zero elements
};

// k initial centroids of the values `v` (1-D), by method.
torch::Tensor init_centroids(const torch::Tensor& v, int k, ClusterInit how, uint64_t seed);

}  // namespace tkws
