// Layer by layer: libtorch (KwsNet::forward_layer) against the tinykws runtime (the
// interpreter's and the int8 network's step hooks) on configs/default.toml's network and
// synthetic clips, at each stage of the training recipe: after training, after pruning (masks
// applied), after clustering (weights replaced by their centroids) and after int8 quantisation.
// Every step's output is compared with libtorch's output of the layer the step ends with; the
// printed table shows where error enters.
//
// Error of a step = max |runtime - libtorch| over all its values and clips, relative to the
// layer's scale (max |libtorch| of that layer over the clips). Budgets:
//  - float stages (a)-(c), reference and fast kernels: 1e-5 relative. Both sides compute in
//    float32 with other summation orders (and, fast kernels, BatchNorm folded into the weights):
//    rounding only. Measured at most 7e-7 (x86-64, AVX2).
//  - int8 (d), against libtorch's float network of stage (c): each layer's dequantised output
//    within 0.05 of its scale (measured 0.008 after the first layer, growing through the layers
//    to 0.024: rounding to 8 bits, passed on and added to by each layer), the probabilities
//    within 0.02 absolute (measured 0.004, one softmax output step of 1/256).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../common/synth_data.h"
#include "tinykws/compress/quantize.h"
#include "tinykws/config/config.h"
#include "tinykws/runtime/int8_network.h"
#include "tinykws/runtime/interpreter.h"
#include "tinykws/runtime/ops_int8.h"
#include "tinykws/train/compress.h"
#include "tinykws/train/feature_set.h"
#include "tinykws/train/network.h"

namespace tkws {
namespace {

constexpr int kClips = 24;
constexpr double kFloatBudget = 1e-5;      // relative to the layer's scale
constexpr double kInt8LayerBudget = 0.05;  // relative to the layer's scale
constexpr double kInt8ProbsBudget = 0.02;  // absolute, probabilities

// libtorch's output of every op of the exported model for every clip, NHWC-flattened:
// refs[op] is [clips][values]. Exported ops are the layers without dropout, plus a final
// softmax when the layers have none (KwsNetImpl::export_to).
struct TorchOutputs {
  std::vector<torch::Tensor> refs;
  std::vector<double> scale;  // max |refs[op]|
};

TorchOutputs torch_outputs(KwsNet& net, const std::vector<float>& feats, int frames, int coeffs) {
  torch::NoGradGuard g;
  net->eval();
  auto x = torch::from_blob(const_cast<float*>(feats.data()), {kClips, 1, frames, coeffs}).clone();
  TorchOutputs t;
  auto keep = [&](const torch::Tensor& y) {
    auto nhwc = y.dim() == 4 ? y.permute({0, 2, 3, 1}) : y;
    t.refs.push_back(nhwc.reshape({kClips, -1}).contiguous());
    t.scale.push_back(t.refs.back().abs().max().item<double>());
  };
  bool softmax = false;
  for (size_t i = 0; i < net->layers().size(); ++i) {
    x = net->forward_layer(i, x);
    const LayerKind kind = net->layers()[i].spec.kind;
    if (kind == LayerKind::kDropout) continue;
    softmax = kind == LayerKind::kSoftmax;
    keep(softmax ? torch::softmax(x, 1) : x);
  }
  if (!softmax) keep(torch::softmax(x, 1));
  return t;
}

Model export_model(KwsNet& net, const Config& c) {
  Model m;
  m.frontend = c.frontend;
  m.labels = {"down", "up"};
  net->export_to(m);
  return m;
}

// Max |a - b| of one step over the clips, and the largest of them relative to the scale.
struct StepError {
  std::string name;
  int op = 0;  // the model op whose output the step writes (its last op)
  double max_abs = 0;
};

void print_table(const char* stage, const std::vector<StepError>& errs, const TorchOutputs& t) {
  std::printf("-- %s\n", stage);
  for (const auto& e : errs)
    std::printf("   op %2d %-24s max |d| %.3e  scale %.3e  relative %.3e\n", e.op, e.name.c_str(),
                e.max_abs, t.scale[e.op], e.max_abs / t.scale[e.op]);
}

// The float model through the interpreter, every step's output against libtorch's.
void compare_float(const char* stage, KwsNet& net, const Config& c, const std::vector<float>& feats,
                   KernelSet kernels) {
  SCOPED_TRACE(stage);
  const int frames = c.frontend.num_frames(), coeffs = c.frontend.num_features();
  const TorchOutputs t = torch_outputs(net, feats, frames, coeffs);
  const Model m = export_model(net, c);
  ASSERT_EQ(t.refs.size(), m.ops.size());

  Interpreter interp;
  InterpreterOptions opt;
  opt.kernels = kernels;
  ASSERT_TRUE(interp.prepare(m, opt).ok());
  // The hook records which op each step ends with and copies its output into a buffer sized
  // by libtorch's layer (no allocation inside invoke()); `size` records what the runtime wrote.
  struct Capture {
    std::vector<std::vector<float>> out;  // [op][values]
    std::vector<size_t> size;             // [op]
    std::vector<StepError> errs;          // [step]
  } cap;
  for (const auto& r : t.refs) cap.out.emplace_back(r.size(1));
  cap.size.resize(m.ops.size());
  for (int s = 0; s < interp.num_steps(); ++s) cap.errs.push_back({interp.step_name(s), -1, 0.0});
  interp.set_step_hook(
      [](void* user, const StepEvent& e) {
        if (!e.done) return;
        auto* c = static_cast<Capture*>(user);
        auto& dst = c->out[e.last_op];
        c->size[e.last_op] = e.shape.size();
        c->errs[e.step].op = e.last_op;
        std::copy_n(e.output, std::min(dst.size(), e.shape.size()), dst.data());
      },
      &cap);
  std::vector<float> arena(interp.arena_bytes() / sizeof(float) + 1), probs(2);
  std::vector<StepError>& errs = cap.errs;

  const size_t per = static_cast<size_t>(frames) * coeffs;
  for (int i = 0; i < kClips; ++i) {
    ASSERT_TRUE(interp
                    .invoke(feats.data() + per * i, probs.data(), arena.data(),
                            arena.size() * sizeof(float))
                    .ok());
    for (auto& e : errs) {
      ASSERT_EQ(cap.size[e.op], cap.out[e.op].size()) << e.name;
      const float* ref = t.refs[e.op][i].data_ptr<float>();
      for (size_t k = 0; k < cap.out[e.op].size(); ++k)
        e.max_abs = std::max(e.max_abs, std::fabs(double(cap.out[e.op][k]) - ref[k]));
    }
  }
  print_table((std::string(stage) +
               (kernels == KernelSet::kReference ? ", reference kernels" : ", fast kernels"))
                  .c_str(),
              errs, t);
  for (const auto& e : errs)
    EXPECT_LE(e.max_abs, kFloatBudget * t.scale[e.op]) << stage << ": " << e.name;
}

// For each op of the int8 model, the float model op whose output it stands for: BatchNorm is
// folded into the weighted op before it and a ReLU after them fused (quantize.h).
std::vector<int> float_op_of_int8_ops(const Model& f, const Model& q) {
  std::vector<int> last;
  size_t j = 0;
  for (const Op& op : q.ops) {
    EXPECT_EQ(op.type, f.ops[j].type);
    const bool weighted = op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D ||
                          op.type == OpType::kDense;
    if (weighted && j + 1 < f.ops.size() && f.ops[j + 1].type == OpType::kBatchNorm) ++j;
    if (weighted && op.fused_activation == FusedActivation::kRelu && j + 1 < f.ops.size() &&
        f.ops[j + 1].type == OpType::kRelu)
      ++j;
    last.push_back(static_cast<int>(j++));
  }
  EXPECT_EQ(j, f.ops.size());
  return last;
}

// The int8 model (calibrated on the clips) through the int8 network, every op's dequantised
// output against libtorch's float output.
void compare_int8(KwsNet& net, const Config& c, const std::vector<float>& feats) {
  const int frames = c.frontend.num_frames(), coeffs = c.frontend.num_features();
  const TorchOutputs t = torch_outputs(net, feats, frames, coeffs);
  const Model f = export_model(net, c);
  const Model q = quantize_int8(f, feats.data(), kClips);
  const std::vector<int> float_op = float_op_of_int8_ops(f, q);
  struct Capture {
    std::vector<std::vector<float>> out;  // [int8 op][values], dequantised
    std::vector<size_t> size;
  } cap;
  for (int fo : float_op) cap.out.emplace_back(t.refs[fo].size(1));
  cap.size.resize(q.ops.size());
  Int8Network n8;
  n8.set_step_hook(
      [](void* user, const Int8StepEvent& e) {
        auto* c = static_cast<Capture*>(user);
        auto& dst = c->out[e.op];
        c->size[e.op] = e.shape.size();
        int8_dequantize(e.output, std::min(dst.size(), e.shape.size()), e.scale, e.zero_point,
                        dst.data());
      },
      &cap);
  ASSERT_TRUE(n8.prepare(q).ok());
  std::vector<uint8_t> arena(n8.arena_bytes());
  std::vector<float> probs(2);
  std::vector<StepError> errs(q.ops.size());
  for (size_t k = 0; k < q.ops.size(); ++k) errs[k] = {n8.step_name(int(k)), float_op[k], 0.0};
  const size_t per = static_cast<size_t>(frames) * coeffs;
  for (int i = 0; i < kClips; ++i) {
    ASSERT_TRUE(n8.invoke(feats.data() + per * i, probs.data(), arena.data(), arena.size()).ok());
    for (size_t k = 0; k < q.ops.size(); ++k) {
      ASSERT_EQ(cap.size[k], cap.out[k].size()) << errs[k].name;
      const float* ref = t.refs[float_op[k]][i].data_ptr<float>();
      for (size_t v = 0; v < cap.out[k].size(); ++v)
        errs[k].max_abs = std::max(errs[k].max_abs, std::fabs(double(cap.out[k][v]) - ref[v]));
    }
  }
  print_table("(d) int8 network vs libtorch float", errs, t);
  for (size_t k = 0; k + 1 < errs.size(); ++k)
    EXPECT_LE(errs[k].max_abs, kInt8LayerBudget * t.scale[errs[k].op]) << errs[k].name;
  EXPECT_LE(errs.back().max_abs, kInt8ProbsBudget) << "probabilities";
}

TEST(LayerByLayer, TorchAndRuntimeThroughTrainingPruningClusteringInt8) {
  Config c = load_config(std::string(TINYKWS_SOURCE_DIR) + "/configs/default.toml");
  const FrontendConfig& fe = c.frontend;
  const int frames = fe.num_frames(), coeffs = fe.num_features();
  std::mt19937_64 rng(7);
  std::vector<std::vector<float>> clips;
  std::vector<int64_t> labels;
  for (int i = 0; i < kClips; ++i) {
    clips.push_back(testing::synth_word(i % 2, rng));
    labels.push_back(i % 2);
  }
  std::vector<float> feats = extract_features(clips, fe, nullptr, 0, 0, 2);
  const FeatureStats st = compute_stats(feats, kClips, frames, coeffs);
  normalize(feats, st, kClips, frames, coeffs);

  // (a) Trained: a few Adam steps on the clips, so BatchNorm statistics and weights are the
  // kind training leaves.
  torch::manual_seed(3);
  KwsNet net(c.model, frames, coeffs, 2);
  {
    torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(0.01));
    auto x = torch::from_blob(feats.data(), {kClips, 1, frames, coeffs});
    auto y = torch::tensor(labels, torch::kInt64);
    net->train();
    for (int step = 0; step < 20; ++step) {
      adam.zero_grad();
      torch::nn::functional::cross_entropy(net->forward(x), y).backward();
      adam.step();
    }
  }
  for (KernelSet k : {KernelSet::kReference, KernelSet::kFast})
    compare_float("(a) after training", net, c, feats, k);

  // (b) Pruned to the recipe's final sparsity in one mask update (the schedule's end step).
  ASSERT_TRUE(c.prune.enabled);
  Pruner pruner(c.prune, net, /*total_steps=*/100, /*steps_per_epoch=*/10);
  pruner.after_step(pruner.end());
  std::printf("pruned: sparsity %.3f (target %.3f)\n", pruner.sparsity(), c.prune.final_sparsity);
  EXPECT_NEAR(pruner.sparsity(), c.prune.final_sparsity, 0.02);
  for (KernelSet k : {KernelSet::kReference, KernelSet::kFast})
    compare_float("(b) after pruning", net, c, feats, k);

  // (c) Clustered: every target kernel replaced by its centroids (no fine-tuning).
  ASSERT_TRUE(c.cluster.enabled);
  Clusterer clus(c.cluster, net, 5);
  clus.finalize();
  for (const CompressTarget& t : compress_targets(net, c.cluster.depthwise, c.cluster.dense)) {
    // At most k centroids, plus the fixed zero centroid of preserve_sparsity.
    const int64_t distinct = std::get<0>(torch::_unique(t.weight.detach())).numel();
    EXPECT_LE(distinct, c.cluster.clusters + 1) << t.name;
  }
  for (KernelSet k : {KernelSet::kReference, KernelSet::kFast})
    compare_float("(c) after clustering", net, c, feats, k);

  // (d) int8, against the float network of (c).
  compare_int8(net, c, feats);
}

}  // namespace
}  // namespace tkws
