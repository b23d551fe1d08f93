#include "tinykws/train/compress.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace tkws {

namespace {

torch::Tensor& layer_weight(BuiltLayer& L) {
  return L.conv ? L.conv->weight : L.dense->weight;
}

}  // namespace

std::vector<CompressTarget> compress_targets(KwsNet& net, bool depthwise, bool dense) {
  std::vector<CompressTarget> out;
  auto& layers = net->mutable_layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    auto& L = layers[i];
    LayerKind k = L.spec.kind;
    bool take = k == LayerKind::kConv || k == LayerKind::kPwConv ||
                (k == LayerKind::kDwConv && depthwise) || (k == LayerKind::kDense && dense);
    if (take) out.push_back({i, k, "layer" + std::to_string(i) + ".weight", layer_weight(L)});
  }
  return out;
}

torch::Tensor magnitude_mask(const torch::Tensor& w, double sparsity, int block_h, int block_w) {
  torch::NoGradGuard g;
  auto keep_top = [](const torch::Tensor& score, double s) {  // 1 for the top-k scores
    auto flat = score.flatten();
    int64_t n = flat.numel();
    int64_t k = std::max<int64_t>(std::llround(n * (1.0 - s)), 1);
    if (k >= n) return torch::ones_like(score);
    auto thr = std::get<0>(flat.topk(k)).min();
    return (score >= thr).to(torch::kFloat32);  // ties at the threshold are kept
  };
  if (w.dim() == 2 && (block_h > 1 || block_w > 1)) {
    auto a = w.abs().unsqueeze(0).unsqueeze(0);
    auto pooled = torch::avg_pool2d(a, {block_h, block_w}, {block_h, block_w}, {0, 0},
                                    /*ceil_mode=*/true, /*count_include_pad=*/false);
    auto bm = keep_top(pooled, sparsity)[0][0];
    auto full = bm.repeat_interleave(block_h, 0).repeat_interleave(block_w, 1);
    return full.slice(0, 0, w.size(0)).slice(1, 0, w.size(1)).contiguous();
  }
  return keep_top(w.abs(), sparsity);
}

Pruner::Pruner(const PruneConfig& cfg, KwsNet& net, int64_t total_steps, int64_t per_epoch)
    : cfg_(cfg), targets_(compress_targets(net, cfg.depthwise, cfg.dense)) {
  cfg_.resolve(total_steps, per_epoch, &begin_, &end_);
  for (auto& t : targets_) masks_.push_back(torch::ones_like(t.weight));
}

double Pruner::target_at(int64_t step) const {
  return cfg_.sparsity_at(step, begin_, end_);
}

void Pruner::after_step(int64_t step) {
  // tfmot updates when begin <= step <= end and (step - begin) % frequency == 0; the end step
  // is added so the final sparsity is always reached whatever the frequency.
  bool update =
      step >= begin_ && step <= end_ && ((step - begin_) % cfg_.frequency == 0 || step == end_);
  if (update) {
    double s = target_at(step);
    for (size_t i = 0; i < targets_.size(); ++i) {
      const auto& w = targets_[i].weight;
      masks_[i] =
          magnitude_mask(w, s, w.dim() == 2 ? cfg_.block_h : 1, w.dim() == 2 ? cfg_.block_w : 1);
    }
  }
  apply();
}

void Pruner::apply() {
  torch::NoGradGuard g;
  for (size_t i = 0; i < targets_.size(); ++i) targets_[i].weight.mul_(masks_[i]);
}

double Pruner::sparsity() const {
  int64_t zeros = 0, n = 0;
  for (auto& t : targets_) {
    zeros += t.weight.eq(0).sum().item<int64_t>();
    n += t.weight.numel();
  }
  return n ? static_cast<double>(zeros) / n : 0.0;
}

torch::Tensor init_centroids(const torch::Tensor& values, int k, ClusterInit how, uint64_t seed) {
  auto v = values.detach().to(torch::kFloat64).contiguous().flatten();
  std::vector<double> x(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
  std::vector<double> c(k, 0.0);
  if (x.empty()) return torch::zeros({k});
  std::sort(x.begin(), x.end());
  double lo = x.front(), hi = x.back();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  switch (how) {
    case ClusterInit::kLinear:  // evenly spaced between min and max
      for (int i = 0; i < k; ++i) c[i] = k == 1 ? lo : lo + (hi - lo) * i / (k - 1);
      break;
    case ClusterInit::kRandom:  // uniform between min and max
      for (int i = 0; i < k; ++i) c[i] = lo + (hi - lo) * u01(rng);
      break;
    case ClusterInit::kDensity:  // evenly spaced in the empirical CDF (quantiles)
      for (int i = 0; i < k; ++i) {
        double q = k == 1 ? 0.5 : static_cast<double>(i) / (k - 1);
        double pos = q * (x.size() - 1);
        size_t a = static_cast<size_t>(pos);
        size_t b = std::min(a + 1, x.size() - 1);
        c[i] = x[a] + (x[b] - x[a]) * (pos - a);
      }
      break;
    case ClusterInit::kKmeansPlusPlus: {  // k-means++ seeding, then Lloyd iterations
      c[0] = x[static_cast<size_t>(u01(rng) * x.size()) % x.size()];
      std::vector<double> d2(x.size());
      for (int j = 1; j < k; ++j) {
        double sum = 0;
        for (size_t i = 0; i < x.size(); ++i) {
          double best = 1e300;
          for (int m = 0; m < j; ++m) best = std::min(best, (x[i] - c[m]) * (x[i] - c[m]));
          d2[i] = best;
          sum += best;
        }
        if (sum <= 0) {
          c[j] = c[0];
          continue;
        }
        double r = u01(rng) * sum;
        size_t pick = 0;
        for (; pick + 1 < x.size() && r > d2[pick]; ++pick) r -= d2[pick];
        c[j] = x[pick];
      }
      for (int it = 0; it < 20; ++it) {
        std::vector<double> s(k, 0.0);
        std::vector<int> n(k, 0);
        for (double xi : x) {
          int best = 0;
          for (int m = 1; m < k; ++m)
            if (std::abs(xi - c[m]) < std::abs(xi - c[best])) best = m;
          s[best] += xi;
          n[best]++;
        }
        for (int m = 0; m < k; ++m)
          if (n[m]) c[m] = s[m] / n[m];
      }
      break;
    }
  }
  std::sort(c.begin(), c.end());
  return torch::tensor(c, torch::kFloat64).to(torch::kFloat32);
}

Clusterer::Clusterer(const ClusterConfig& cfg, KwsNet& net, uint64_t seed)
    : cfg_(cfg), net_(net), targets_(compress_targets(net, cfg.depthwise, cfg.dense)) {
  torch::NoGradGuard g;
  for (size_t i = 0; i < targets_.size(); ++i) {
    const auto& w = targets_[i].weight;
    int64_t rows = cfg.per_channel ? w.size(0) : 1;
    auto wr = w.reshape({rows, -1});
    auto nz = cfg.preserve_sparsity ? wr.ne(0) : torch::ones_like(wr, torch::kBool);
    int kt = cfg.preserve_sparsity ? cfg.clusters - 1 : cfg.clusters;  // + a fixed zero
    auto c = torch::zeros({rows, kt});
    for (int64_t r = 0; r < rows; ++r)
      c[r].copy_(init_centroids(wr[r].masked_select(nz[r]), kt, cfg.init, seed + 7919 * i + r));
    centroids_.push_back(c.set_requires_grad(true));
    nonzero_.push_back(nz);
  }
}

torch::Tensor Clusterer::clustered(size_t i, bool with_grad) {
  const auto& w = targets_[i].weight;
  const auto& C = centroids_[i];  // [rows][kt]
  int64_t rows = C.size(0);
  auto wr = w.reshape({rows, -1});
  torch::Tensor idx;
  {
    torch::NoGradGuard g;  // nearest centroid of every element: [rows][m]
    idx = (wr.unsqueeze(2) - C.unsqueeze(1)).abs().argmin(2);
  }
  auto mask = nonzero_[i].to(torch::kFloat32);
  torch::Tensor cu = C;
  if (cfg_.gradient == ClusterGradient::kMean) {
    // Same values; each centroid's gradient divided by its member count.
    auto counts = torch::zeros_like(C).scatter_add_(1, idx, mask).clamp_min(1.0);
    cu = C.detach() + (C - C.detach()) / counts;
  }
  auto vals = cu.gather(1, idx) * mask;                    // zeros stay on the fixed zero centroid
  if (with_grad) vals = vals + (wr - wr.detach()) * mask;  // straight-through to the latent
  if (!with_grad) vals = vals.detach();
  return vals.reshape(w.sizes());
}

void Clusterer::before_forward() {
  auto& layers = net_->mutable_layers();
  bool grad = torch::GradMode::is_enabled();
  for (size_t i = 0; i < targets_.size(); ++i)
    layer_weight(layers[targets_[i].layer]) = clustered(i, grad);
}

void Clusterer::finalize() {
  {
    torch::NoGradGuard g;
    for (size_t i = 0; i < targets_.size(); ++i) targets_[i].weight.copy_(clustered(i, false));
  }
  restore_layers();
}

void Clusterer::restore_layers() {
  auto& layers = net_->mutable_layers();
  for (auto& t : targets_) layer_weight(layers[t.layer]) = t.weight;
}

}  // namespace tkws
