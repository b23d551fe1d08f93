// Pruning and clustering (tfmot semantics, docs/training.md), and that prune -> cluster -> fp16
// keeps both properties in the written .tkws file.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "tinykws/config/config.h"
#include "tinykws/format/tkws.h"
#include "tinykws/train/compress.h"
#include "tinykws/train/trainer.h"
#include "train_fixture.h"

namespace fs = std::filesystem;

namespace tkws {
namespace {

TEST(Prune, MaskKeepsTopKAndTies) {
  auto w = torch::tensor({0.1f, -0.5f, 0.3f, 0.3f, -0.05f, 0.0f, 0.9f, -0.3f});
  // s = 0.5 -> k = 4 largest |w|: 0.9, 0.5, and the three 0.3 ties are all kept.
  auto m = magnitude_mask(w, 0.5);
  EXPECT_EQ(m.sum().item<float>(), 5.0f);
  EXPECT_EQ(m[4].item<float>(), 0.0f);
  // k = max(round(n (1 - s)), 1): never prunes everything.
  EXPECT_EQ(magnitude_mask(w, 0.99).sum().item<float>(), 1.0f);
  EXPECT_EQ(magnitude_mask(w, 0.0).sum().item<float>(), 8.0f);
}

TEST(Prune, BlockMaskOn2D) {
  auto w = torch::zeros({4, 4});
  w.slice(0, 0, 2).slice(1, 0, 2).fill_(1.0f);  // block (0,0): mean 1
  w.slice(0, 2, 4).slice(1, 2, 4).fill_(0.5f);  // block (1,1): mean 0.5
  w[0][3] = 0.9f;                               // block (0,1): mean 0.225
  auto m = magnitude_mask(w, 0.5, 2, 2);        // keep 2 of 4 blocks
  EXPECT_EQ(m.slice(0, 0, 2).slice(1, 0, 2).sum().item<float>(), 4.0f);
  EXPECT_EQ(m.slice(0, 2, 4).slice(1, 2, 4).sum().item<float>(), 4.0f);
  EXPECT_EQ(m[0][3].item<float>(), 0.0f);  // a large weight in a weak block goes with it
}

TEST(Prune, PolynomialSchedule) {
  PruneConfig p;
  p.enabled = true;
  p.initial_sparsity = 0.1f;
  p.final_sparsity = 0.9f;
  p.power = 3;
  EXPECT_DOUBLE_EQ(p.sparsity_at(50, 100, 200), 0.0);  // before begin
  EXPECT_NEAR(p.sparsity_at(100, 100, 200), 0.1, 1e-7);
  EXPECT_NEAR(p.sparsity_at(150, 100, 200), 0.9 + (0.1 - 0.9) * 0.125, 1e-7);
  EXPECT_NEAR(p.sparsity_at(200, 100, 200), 0.9, 1e-7);
  EXPECT_NEAR(p.sparsity_at(999, 100, 200), 0.9, 1e-7);
  p.schedule = PruneSchedule::kConstant;
  EXPECT_NEAR(p.sparsity_at(100, 100, 200), 0.9, 1e-7);
  int64_t b, e;
  p.begin_fraction = 0.1;
  p.resolve(1000, 50, &b, &e);
  EXPECT_EQ(b, 100);
  EXPECT_EQ(e, 999);  // the last step of the run
  PruneConfig q;
  q.begin_epoch = 5, q.end_epoch = 45;
  q.resolve(2500, 50, &b, &e);
  EXPECT_EQ(b, 250);
  EXPECT_EQ(e, 2250);
}

TEST(Cluster, InitMethods) {
  auto v = torch::linspace(-1.0, 1.0, 101);
  auto lin = init_centroids(v, 5, ClusterInit::kLinear, 0);
  EXPECT_NEAR(lin[0].item<float>(), -1.0f, 1e-6);
  EXPECT_NEAR(lin[4].item<float>(), 1.0f, 1e-6);
  auto den = init_centroids(v, 3, ClusterInit::kDensity, 0);
  EXPECT_NEAR(den[1].item<float>(), 0.0f, 1e-6);
  auto km1 = init_centroids(v, 4, ClusterInit::kKmeansPlusPlus, 3);
  auto km2 = init_centroids(v, 4, ClusterInit::kKmeansPlusPlus, 3);
  EXPECT_TRUE(torch::equal(km1, km2));  // deterministic per seed
  for (int i = 1; i < 4; ++i) EXPECT_LT(km1[i - 1].item<float>(), km1[i].item<float>());
  auto rnd = init_centroids(v, 4, ClusterInit::kRandom, 1);
  EXPECT_GE(rnd.min().item<float>(), -1.0f);
  EXPECT_LE(rnd.max().item<float>(), 1.0f);
}

// d(sum(W_eff * G))/dC_k = sum of G over the members of k (sum mode), / count (mean mode).
TEST(Cluster, CentroidGradientIsSumOrMeanOfMembers) {
  for (auto mode : {ClusterGradient::kSum, ClusterGradient::kMean}) {
    ModelConfig mc;
    LayerSpec conv;
    conv.kind = LayerKind::kConv;
    conv.filters = 2;
    mc.layers = {conv, LayerSpec{LayerKind::kGap}, LayerSpec{LayerKind::kDense}};
    torch::manual_seed(0);
    KwsNet net(mc, 5, 5, 2);
    ClusterConfig cc;
    cc.clusters = 3;
    cc.preserve_sparsity = false;
    cc.gradient = mode;
    cc.dense = false;
    Clusterer cl(cc, net, 0);
    cl.before_forward();
    auto& L = net->mutable_layers()[0];
    auto weff = L.conv->weight;
    auto G = torch::randn(weff.sizes());
    (weff * G).sum().backward();
    auto C = cl.centroids()[0];
    auto latent = net->parameters()[0];
    auto idx = (latent.detach().reshape({1, -1}).unsqueeze(2) - C.detach().unsqueeze(1))
                   .abs()
                   .argmin(2)[0];
    auto g = G.flatten();
    for (int k = 0; k < 3; ++k) {
      auto members = idx.eq(k);
      double expect = g.masked_select(members).sum().item<double>();
      if (mode == ClusterGradient::kMean)
        expect /= std::max<int64_t>(members.sum().item<int64_t>(), 1);
      EXPECT_NEAR(C.grad()[0][k].item<double>(), expect, 1e-5);
    }
    EXPECT_TRUE(torch::allclose(latent.grad(), G));  // straight through
    cl.restore_layers();
  }
}

// ---- the chain on the written file --------------------------------------------------------

const char* kChain = R"(
[frontend]
frame_length = 480
frame_step = 320
fft_length = 512
num_mel_bins = 20
num_mfcc = 8
[model]
layers = [
  { type = "conv", filters = 8, kernel = 3, stride = 2, bias = false }, { type = "bn" },
  { type = "relu" },
  { type = "dwconv", kernel = 3 }, { type = "bn" }, { type = "relu" },
  { type = "pwconv", filters = 12 }, { type = "bn" }, { type = "relu" },
  { type = "gap" }, { type = "dense" }, { type = "softmax" } ]
[train]
epochs = 4
batch_size = 16
lr_initial = 0.01
lr_final = 0.002
ema_decay = 0.8
[prune]
initial_sparsity = 0.0
final_sparsity = 0.6
begin_epoch = 1
end_epoch = 3
frequency = 2
depthwise = true
[cluster]
clusters = 4
epochs = 2
depthwise = true
)";

class Chain : public testing::SynthTrainSuite<8, 3, 2> {
 protected:
  static void SetUpTestSuite() { make("chain"); }
  static TrainResult run(const std::string& extra, const std::string& out, int stop = 0,
                         bool resume = false) {
    return train(parse_config(std::string(kChain) + extra), root_ + "/" + out, stop, resume);
  }
};

struct TensorStats {
  double sparsity;
  size_t distinct;
  size_t max_distinct_per_row;
};
TensorStats stats_of(const Tensor& t) {
  std::set<float> all;
  size_t zeros = 0, rows = t.shape[0], per = t.numel() / rows, max_row = 0;
  for (size_t r = 0; r < rows; ++r) {
    std::set<float> row;
    for (size_t i = 0; i < per; ++i) {
      float v = t.f32[r * per + i];
      all.insert(v);
      row.insert(v);
      zeros += v == 0.0f;
    }
    max_row = std::max(max_row, row.size());
  }
  return {static_cast<double>(zeros) / t.numel(), all.size(), max_row};
}

TEST_F(Chain, PruneClusterFp16KeepsSparsityAndClusters) {
  TrainResult r = run("[quantize]\nmode = \"fp16\"\n", "chain");
  ASSERT_EQ(r.history.size(), 6u);
  EXPECT_EQ(r.history[4].phase, "cluster");
  Model m = read_model(root_ + "/chain/model.tkws");
  int checked = 0;
  for (const auto& t : m.tensors) {
    if (t.name.find(".weight") == std::string::npos) continue;
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.dtype, DType::kF16);
    TensorStats s = stats_of(t);
    EXPECT_GE(s.sparsity, 0.6 - 1.0 / t.numel() - 1e-9);  // k = round(n (1 - s)) kept
    EXPECT_LE(s.distinct, 4u);                            // 3 centroids + the fixed zero
    ++checked;
  }
  EXPECT_EQ(checked, 4);  // conv, dwconv (asked for), pwconv, dense
}

// prune -> cluster -> int8: BN is folded into the kernels (a per-channel scale) and weights
// are quantised per output channel, so each channel keeps <= k distinct values and every
// pruned weight stays exactly 0.
TEST_F(Chain, PruneClusterInt8KeepsSparsityAndPerChannelClusters) {
  TrainResult r = run("[quantize]\nmode = \"int8\"\ncalibration_clips = 16\n", "chain8");
  EXPECT_GT(r.runtime_val_acc, 0.0);
  Model m = read_model(root_ + "/chain8/model.tkws");
  ASSERT_TRUE(m.is_int8());
  int checked = 0;
  for (const auto& t : m.tensors) {
    if (t.dtype != DType::kI8) continue;
    SCOPED_TRACE(t.name);
    size_t rows = t.shape[0], per = t.numel() / rows, zeros = 0, max_row = 0;
    for (size_t row = 0; row < rows; ++row) {
      std::set<int8_t> vals;
      for (size_t i = 0; i < per; ++i) {
        int8_t q = t.i8[row * per + i];
        vals.insert(q);
        zeros += q == 0;
      }
      max_row = std::max(max_row, vals.size());
    }
    EXPECT_GE(static_cast<double>(zeros) / t.numel(), 0.6 - 1.0 / t.numel() - 1e-9);
    EXPECT_LE(max_row, 4u);  // 3 centroids + the fixed zero, per output channel
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST_F(Chain, PerChannelClustersAndDepthwiseLeftAloneByDefault) {
  std::string cfg = std::string(kChain);
  for (size_t at; (at = cfg.find("depthwise = true")) != std::string::npos;)
    cfg.replace(at, 16, "depthwise = false");
  cfg += "per_channel = true\n";
  train(parse_config(cfg), root_ + "/perch");
  Model m = read_model(root_ + "/perch/model.tkws");
  for (const auto& t : m.tensors) {
    if (t.name.find(".weight") == std::string::npos) continue;
    SCOPED_TRACE(t.name);
    TensorStats s = stats_of(t);
    if (t.name == "layer3.weight") {  // the depthwise kernel
      EXPECT_LT(s.sparsity, 0.2);     // tfmot semantics: depthwise kernels stay dense
    } else {
      EXPECT_GE(s.sparsity, 0.6 - 1.0 / t.numel() - 1e-9);
      EXPECT_LE(s.max_distinct_per_row, 4u);
    }
  }
}

TEST_F(Chain, ResumeInsideClusteringPhase) {
  run("", "whole");
  TrainResult part = run("", "cut", /*stop=*/5);
  EXPECT_TRUE(part.interrupted);
  run("", "cut", 0, /*resume=*/true);
  auto bytes = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(bytes(root_ + "/whole/model.tkws"), bytes(root_ + "/cut/model.tkws"));
}

}  // namespace
}  // namespace tkws
