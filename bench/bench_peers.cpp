// Peer benchmark: the same network (same weights) on the tinykws runtime, on libtorch eager
// (the training module, train/torch_peer.h) and on XNNPACK (subgraph API, fp32 NHWC, BatchNorm
// folded into the convolutions here), batch 1, one thread; plus clip -> probabilities on the
// tinykws pipeline and on a libtorch pipeline (torch::stft, mel matmul, log, DCT matmul).
// This file includes no libtorch header: the torch side is behind train/torch_peer.h.
//
// Models: a 32-channel DS-CNN built in-process (49x10 input, as bench_runtime), and, when
// TINYKWS_BENCH_MODEL names a float .tkws file whose run folder has its config.toml (as
// `tinykws train --out` leaves it), that model too.
// Before timing, every peer's output is compared with the tinykws runtime's on random inputs:
// max |d prob| and max |d logit| are printed and attached as counters (a peer computing
// something else is skipped with an error).
// Run: TINYKWS_BENCH_MODEL=runs/default/model.tkws build/bench/bench_peers
//      --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tinykws/config/config.h"
#include "tinykws/format/tkws.h"
#include "tinykws/runtime/pipeline.h"
#include "tinykws/train/torch_peer.h"

#ifdef TINYKWS_HAVE_XNNPACK
#include <xnnpack.h>
#endif

namespace tkws {
namespace {

// ---- subjects: one network, its tinykws Model and its libtorch module ---------------------

struct Subject {
  std::string name;
  Model model;
  TorchNet net;  // eval mode; empty when no torch twin could be built
  std::string torch_error;
  int frames = 0, coeffs = 0, labels = 0;
};

// The in-process DS-CNN of bench_runtime (tests/format/test_models.h dscnn_model): conv 3x3/2
// same -> ch, BN, ReLU, `blocks` x [dw 3x3, BN, ReLU, pw 1x1 -> ch, BN, ReLU], GAP, dense,
// softmax; bias-free convs. Built as a KwsNet with random weights and BN statistics, then
// exported (TorchNet::random), so the torch module and the Model share their weights by
// construction.
Subject make_dscnn(int ch, int blocks, int num_labels) {
  auto layer = [](LayerKind k, int filters = 0, int kernel = 3, int stride = 1) {
    LayerSpec s;
    s.kind = k;
    s.filters = filters;
    s.kernel_h = s.kernel_w = kernel;
    s.stride_h = s.stride_w = stride;
    s.padding = Padding::kSame;
    s.bias = k == LayerKind::kDense;
    return s;
  };
  ModelConfig mc;
  mc.layers = {layer(LayerKind::kConv, ch, 3, 2), layer(LayerKind::kBatchNorm),
               layer(LayerKind::kRelu)};
  for (int b = 0; b < blocks; ++b) {
    for (const LayerSpec& s :
         {layer(LayerKind::kDwConv), layer(LayerKind::kBatchNorm), layer(LayerKind::kRelu),
          layer(LayerKind::kPwConv, ch, 1), layer(LayerKind::kBatchNorm), layer(LayerKind::kRelu)})
      mc.layers.push_back(s);
  }
  mc.layers.push_back(layer(LayerKind::kGap));
  mc.layers.push_back(layer(LayerKind::kDense));
  mc.layers.push_back(layer(LayerKind::kSoftmax));

  Subject s;
  s.name = "dscnn" + std::to_string(ch);
  s.model.frontend.fft_length = 640;  // course front end: 49 x 10 MFCC
  for (int i = 0; i < num_labels; ++i) s.model.labels.push_back("label" + std::to_string(i));
  s.frames = s.model.frontend.num_frames();
  s.coeffs = s.model.frontend.num_features();
  s.labels = num_labels;
  s.net = TorchNet::random(mc, s.frames, s.coeffs, num_labels, /*seed=*/7, s.model);
  return s;
}

// A model file: the runtime reads it; the torch twin is the run's KwsNet (config.toml next to
// the file) with the file's weights (TorchNet::twin).
Subject load_subject(const std::string& path) {
  Subject s;
  s.name = std::filesystem::path(path).parent_path().filename().string() + "/" +
           std::filesystem::path(path).filename().string();
  s.model = read_model(path);
  s.frames = s.model.frontend.num_frames();
  s.coeffs = s.model.frontend.num_features();
  s.labels = static_cast<int>(s.model.labels.size());
  s.net = TorchNet::twin(path, s.model, &s.torch_error);
  return s;
}

// ---- XNNPACK: the Model's op list as a subgraph --------------------------------------------
#ifdef TINYKWS_HAVE_XNNPACK
class XnnNet {
 public:
  XnnNet() = default;
  XnnNet(const XnnNet&) = delete;
  XnnNet& operator=(const XnnNet&) = delete;
  ~XnnNet() {
    if (rt_) xnn_delete_runtime(rt_);
    if (sg_) xnn_delete_subgraph(sg_);
  }

  // Builds the network of `m` (ops [0, num_ops), a trailing Softmax dropped when !softmax).
  // Conv2D / DepthwiseConv2D + BatchNorm + ReLU become one node with folded weights; GAP,
  // Dense (+ReLU), Relu and Softmax map 1:1. Returns "" or why the model is not supported.
  std::string build(const Model& m, bool softmax) {
    if (m.is_int8()) return "int8 model";
    if (xnn_initialize(nullptr) != xnn_status_success) return "xnn_initialize failed";
    if (xnn_create_subgraph(2, 0, &sg_) != xnn_status_success) return "xnn_create_subgraph";
    size_t n_ops = m.ops.size();
    if (!softmax && n_ops && m.ops.back().type == OpType::kSoftmax) --n_ops;
    ActShape s = model_input_shape(m);
    in_size_ = s.size();
    uint32_t cur = 0;
    {
      const size_t dims[4] = {1, size_t(s.h), size_t(s.w), size_t(s.c)};
      if (xnn_define_tensor_value(sg_, xnn_datatype_fp32, 4, dims, nullptr, 0,
                                  XNN_VALUE_FLAG_EXTERNAL_INPUT, &cur) != xnn_status_success)
        return "input value";
    }
    int ndims = 4;         // of `cur`; 2 after a flattening Dense
    auto cur_dims = [&] {  // the shape of `cur`, for shape-keeping ops (ReLU, softmax)
      return ndims == 4 ? std::vector<size_t>{1, size_t(s.h), size_t(s.w), size_t(s.c)}
                        : std::vector<size_t>{1, size_t(s.c)};
    };
    auto value = [&](std::vector<size_t> dims, bool last, uint32_t* id) {
      return xnn_define_tensor_value(sg_, xnn_datatype_fp32, dims.size(), dims.data(), nullptr,
                                     last ? 1 : XNN_INVALID_VALUE_ID,
                                     last ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT : 0,
                                     id) == xnn_status_success;
    };
    auto constant = [&](std::vector<float> data, std::vector<size_t> dims, uint32_t* id) {
      weights_.push_back(std::move(data));
      return xnn_define_tensor_value(sg_, xnn_datatype_fp32, dims.size(), dims.data(),
                                     weights_.back().data(), XNN_INVALID_VALUE_ID, 0,
                                     id) == xnn_status_success;
    };
    const float inf = std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < n_ops; ++i) {
      const Op& op = m.ops[i];
      const std::string where = "op " + std::to_string(i) + " (" + op_name(op.type) + ")";
      switch (op.type) {
        case OpType::kConv2D:
        case OpType::kDepthwiseConv2D: {
          const bool dw = op.type == OpType::kDepthwiseConv2D;
          const Tensor& w = m.tensors[op.tensors[0]];
          const int oc = w.shape[0], ic = dw ? 1 : w.shape[1], kh = op.kernel_h, kw = op.kernel_w;
          std::vector<float> scale(oc, 1.0f), bias(oc, 0.0f);
          if (op.tensors.size() > 1) bias = m.tensors[op.tensors[1]].f32;
          size_t j = i + 1;
          if (j < n_ops && m.ops[j].type == OpType::kBatchNorm) {  // y = (conv + b) * sc + sh
            const auto& sc = m.tensors[m.ops[j].tensors[0]].f32;
            const auto& sh = m.tensors[m.ops[j].tensors[1]].f32;
            for (int o = 0; o < oc; ++o) {
              scale[o] = sc[o];
              bias[o] = bias[o] * sc[o] + sh[o];
            }
            ++j;
          }
          const bool relu = j < n_ops && m.ops[j].type == OpType::kRelu;
          if (relu) ++j;
          // XNNPACK filters: conv [oc][kh][kw][ic], depthwise [1][kh][kw][c]; ours
          // [oc][ic][kh][kw].
          std::vector<float> f(w.f32.size());
          for (int o = 0; o < oc; ++o)
            for (int c = 0; c < ic; ++c)
              for (int y = 0; y < kh; ++y)
                for (int x = 0; x < kw; ++x) {
                  const float v = w.f32[((size_t(o) * ic + c) * kh + y) * kw + x] * scale[o];
                  if (dw)
                    f[(size_t(y) * kw + x) * oc + o] = v;
                  else
                    f[((size_t(o) * kh + y) * kw + x) * ic + c] = v;
                }
          const Window win = op_window(op, s);
          const int pad_bottom = std::max(0, (win.out_h - 1) * win.sh + kh - s.h - win.pad_top);
          const int pad_right = std::max(0, (win.out_w - 1) * win.sw + kw - s.w - win.pad_left);
          uint32_t fid, bid, out;
          const bool ok =
              constant(std::move(f),
                       dw ? std::vector<size_t>{1, size_t(kh), size_t(kw), size_t(oc)}
                          : std::vector<size_t>{size_t(oc), size_t(kh), size_t(kw), size_t(ic)},
                       &fid) &&
              constant(bias, {size_t(oc)}, &bid) &&
              value({1, size_t(win.out_h), size_t(win.out_w), size_t(oc)}, j == n_ops, &out);
          if (!ok) return where + ": value";
          const float lo = relu ? 0.0f : -inf;
          const xnn_status st =
              dw ? xnn_define_depthwise_convolution_2d(
                       sg_, win.pad_top, pad_right, pad_bottom, win.pad_left, kh, kw, op.stride_h,
                       op.stride_w, 1, 1, 1, oc, lo, inf, cur, fid, bid, out, 0)
                 : xnn_define_convolution_2d(sg_, win.pad_top, pad_right, pad_bottom, win.pad_left,
                                             kh, kw, op.stride_h, op.stride_w, 1, 1, 1, ic, oc, lo,
                                             inf, cur, fid, bid, out, 0);
          if (st != xnn_status_success) return where + ": define failed";
          cur = out;
          s = {win.out_h, win.out_w, oc};
          i = j - 1;
          break;
        }
        case OpType::kRelu: {
          uint32_t out;
          if (!value(cur_dims(), i + 1 == n_ops, &out) ||
              xnn_define_clamp(sg_, 0.0f, inf, cur, out, 0) != xnn_status_success)
            return where + ": define failed";
          cur = out;
          break;
        }
        case OpType::kGlobalAvgPool: {
          uint32_t out;
          if (!value({1, 1, 1, size_t(s.c)}, i + 1 == n_ops, &out) ||
              xnn_define_global_average_pooling_2d(sg_, -inf, inf, cur, out, 0) !=
                  xnn_status_success)
            return where + ": define failed";
          cur = out;
          s = {1, 1, s.c};
          break;
        }
        case OpType::kDense: {
          const Tensor& w = m.tensors[op.tensors[0]];
          const int units = w.shape[0], in = w.shape[1];
          std::vector<float> bias(units, 0.0f);
          if (op.tensors.size() > 1) bias = m.tensors[op.tensors[1]].f32;
          size_t j = i + 1;
          const bool relu = j < n_ops && m.ops[j].type == OpType::kRelu;
          if (relu) ++j;
          uint32_t fid, bid, out;
          // NHWC flattening (model.h) is XNNPACK's TENSORFLOW_RESHAPE_2D: output [1][units].
          if (!constant(w.f32, {size_t(units), size_t(in)}, &fid) ||
              !constant(bias, {size_t(units)}, &bid) ||
              !value({1, size_t(units)}, j == n_ops, &out) ||
              xnn_define_fully_connected(sg_, relu ? 0.0f : -inf, inf, cur, fid, bid, out,
                                         XNN_FLAG_TENSORFLOW_RESHAPE_2D) != xnn_status_success)
            return where + ": define failed";
          cur = out;
          ndims = 2;
          s = {1, 1, units};
          i = j - 1;
          break;
        }
        case OpType::kSoftmax: {
          uint32_t out;
          if (!value(cur_dims(), i + 1 == n_ops, &out) ||
              xnn_define_softmax(sg_, cur, out, 0) != xnn_status_success)
            return where + ": define failed";
          cur = out;
          break;
        }
        default:
          return where + ": not mapped to XNNPACK by this benchmark";
      }
    }
    out_size_ = s.size();
    if (xnn_create_runtime_v2(sg_, /*threadpool=*/nullptr, 0, &rt_) != xnn_status_success)
      return "xnn_create_runtime_v2 failed";
    // XNNPACK may read XNN_EXTRA_BYTES past an input: own padded buffers.
    in_.assign(in_size_ + XNN_EXTRA_BYTES / sizeof(float), 0.0f);
    out_.assign(out_size_ + XNN_EXTRA_BYTES / sizeof(float), 0.0f);
    const xnn_external_value ext[2] = {{0, in_.data()}, {1, out_.data()}};
    if (xnn_setup_runtime(rt_, 2, ext) != xnn_status_success) return "xnn_setup_runtime failed";
    return "";
  }
  float* input() { return in_.data(); }
  const float* output() const { return out_.data(); }
  size_t output_size() const { return out_size_; }
  bool invoke() { return xnn_invoke_runtime(rt_) == xnn_status_success; }

 private:
  xnn_subgraph_t sg_ = nullptr;
  xnn_runtime_t rt_ = nullptr;
  std::vector<std::vector<float>> weights_;  // static data must outlive the runtime
  std::vector<float> in_, out_;
  size_t in_size_ = 0, out_size_ = 0;
};
#endif

// ---- agreement checks -----------------------------------------------------------------------

// tinykws runtime: probabilities, and the logits (output of the op before the final Softmax)
// through the interpreter's step hook.
struct TkwsOut {
  std::vector<float> probs, logits;
};
TkwsOut run_tinykws(KwsPipeline& p, const Model& m, const float* feats) {
  TkwsOut r;
  r.probs.resize(p.num_labels());
  struct Grab {
    int op;
    std::vector<float>* dst;
  } grab{static_cast<int>(m.ops.size()) - 2, &r.logits};
  Interpreter& it = p.interpreter();
  it.set_step_hook(
      [](void* u, const StepEvent& e) {
        auto* g = static_cast<Grab*>(u);
        if (e.done && e.first_op <= g->op && g->op <= e.last_op)
          g->dst->assign(e.output, e.output + e.shape.size());
      },
      &grab);
  p.network(feats, r.probs.data());
  it.set_step_hook(nullptr, nullptr);
  return r;
}

double max_abs_diff(const std::vector<float>& a, const float* b, size_t n) {
  double d = 0;
  if (a.size() != n) return INFINITY;
  for (size_t i = 0; i < n; ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

struct Diffs {
  double prob = 0, logit = 0;
  bool ok = true;
  std::string error;
};

// Check inputs: uniform [-2, 2) features, and the subject's features of a noise clip.
std::vector<std::vector<float>> check_inputs(KwsPipeline& p, int n_random) {
  std::vector<std::vector<float>> xs;
  std::mt19937 rng(123);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  const size_t n = static_cast<size_t>(p.num_frames()) * p.num_features();
  for (int k = 0; k < n_random; ++k) {
    std::vector<float> x(n);
    for (float& v : x) v = u(rng);
    xs.push_back(std::move(x));
  }
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> clip(p.clip_samples());
  for (float& v : clip) v = noise(rng);
  std::vector<float> f(n);
  p.features(clip.data(), f.data());
  xs.push_back(std::move(f));
  return xs;
}

std::vector<float> noise_clip(int samples) {
  std::mt19937 rng(1);  // bench_model's clip
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> clip(samples);
  for (float& v : clip) v = noise(rng);
  return clip;
}

// ---- benchmarks -----------------------------------------------------------------------------

double min_of(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}

void set_diff_counters(benchmark::State& state, const Diffs& d) {
  state.counters["max_dprob"] = d.prob;
  state.counters["max_dlogit"] = d.logit;
}

void register_subject(const std::shared_ptr<Subject>& subj) {
  auto pipe = std::make_shared<KwsPipeline>();
  if (Status st = pipe->create(subj->model); !st.ok()) {
    std::fprintf(stderr, "%s: tinykws cannot run it: %s\n", subj->name.c_str(), st.message);
    return;
  }
  const auto inputs = check_inputs(*pipe, 8);
  const size_t n_in = inputs[0].size();
  const std::string tag = subj->name;
  std::printf("[%s] %d x %d input, %d labels, kernels %s\n", tag.c_str(), subj->frames,
              subj->coeffs, subj->labels, pipe->interpreter().kernel_set_name());

  // -- torch vs tinykws --
  Diffs dt;
  if (!subj->net) {
    dt.ok = false;
    dt.error = subj->torch_error;
  } else {
    for (const auto& x : inputs) {
      const TkwsOut r = run_tinykws(*pipe, subj->model, x.data());
      const TorchNet::Output t = subj->net.forward(x.data());
      dt.logit = std::max(dt.logit, max_abs_diff(r.logits, t.logits.data(), t.logits.size()));
      dt.prob = std::max(dt.prob, max_abs_diff(r.probs, t.probs.data(), t.probs.size()));
    }
    dt.ok = dt.prob < 1e-4;
    if (!dt.ok) dt.error = "libtorch output differs from tinykws";
  }
  std::printf("[%s] libtorch vs tinykws over %zu inputs: max |dprob| %.2e, max |dlogit| %.2e%s%s\n",
              tag.c_str(), inputs.size(), dt.prob, dt.logit, dt.ok ? "" : "  -- ",
              dt.error.c_str());

  // -- XNNPACK vs tinykws --
  Diffs dx;
#ifdef TINYKWS_HAVE_XNNPACK
  auto xnn = std::make_shared<XnnNet>();
  {
    XnnNet xnn_logits;
    std::string err = xnn->build(subj->model, true);
    if (err.empty()) err = xnn_logits.build(subj->model, false);
    if (!err.empty()) {
      dx.ok = false;
      dx.error = "XNNPACK: " + err;
    } else {
      for (const auto& x : inputs) {
        const TkwsOut r = run_tinykws(*pipe, subj->model, x.data());
        std::copy(x.begin(), x.end(), xnn->input());
        std::copy(x.begin(), x.end(), xnn_logits.input());
        if (!xnn->invoke() || !xnn_logits.invoke()) {
          dx.ok = false, dx.error = "xnn_invoke_runtime failed";
          break;
        }
        dx.prob = std::max(dx.prob, max_abs_diff(r.probs, xnn->output(), xnn->output_size()));
        dx.logit = std::max(dx.logit,
                            max_abs_diff(r.logits, xnn_logits.output(), xnn_logits.output_size()));
      }
      if (dx.ok && !(dx.prob < 1e-4)) dx.ok = false, dx.error = "XNNPACK output differs";
    }
  }
#else
  dx.ok = false;
  dx.error = "built without XNNPACK";
#endif
  std::printf("[%s] XNNPACK vs tinykws over %zu inputs: max |dprob| %.2e, max |dlogit| %.2e%s%s\n",
              tag.c_str(), inputs.size(), dx.prob, dx.logit, dx.ok ? "" : "  -- ",
              dx.error.c_str());

  // -- clip -> probabilities: libtorch front end + net vs the tinykws pipeline --
  auto tfe = std::make_shared<TorchFrontend>(subj->model);
  const std::vector<float> clip = noise_clip(pipe->clip_samples());
  Diffs dc;
  double feat_diff = 0;
  if (!subj->net) {
    dc.ok = false, dc.error = subj->torch_error;
  } else if (!tfe->error().empty()) {
    dc.ok = false, dc.error = tfe->error();
  } else {
    std::vector<float> feats(n_in), probs(pipe->num_labels());
    pipe->features(clip.data(), feats.data());
    pipe->run(clip.data(), probs.data());
    try {  // throws when the torch front end's feature count is not the network's input
      const TorchNet::ClipOutput t = subj->net.run_clip(*tfe, clip.data(), clip.size());
      feat_diff = max_abs_diff(feats, t.features.data(), t.features.size());
      dc.prob = max_abs_diff(probs, t.probs.data(), t.probs.size());
      // Features of the two front ends agree to float32 rounding (~1e-4 on MFCCs of magnitude
      // ~10-100 before normalisation); the decision must be the same.
      dc.ok = dc.prob < 1e-3;
      if (!dc.ok) dc.error = "torch pipeline output differs";
    } catch (const std::exception& e) {
      dc.ok = false, dc.error = std::string("torch pipeline: ") + e.what();
    }
  }
  std::printf(
      "[%s] libtorch pipeline vs tinykws pipeline (noise clip): max |dfeature| %.2e, max |dprob| "
      "%.2e%s%s\n",
      tag.c_str(), feat_diff, dc.prob, dc.ok ? "" : "  -- ", dc.error.c_str());
  std::fflush(stdout);

  // -- the timed variants --
  std::vector<float> x0 = inputs.back();  // real-looking features
  auto x = std::make_shared<std::vector<float>>(x0);
  auto reg = [](const std::string& name, auto fn) {
    return benchmark::RegisterBenchmark(name.c_str(), fn)
        ->Unit(benchmark::kMicrosecond)
        ->ComputeStatistics("min", min_of);
  };
  reg("network/tinykws/" + tag, [pipe, x](benchmark::State& state) {
    std::vector<float> probs(pipe->num_labels());
    for (auto _ : state) {
      pipe->network(x->data(), probs.data());
      benchmark::DoNotOptimize(probs.data());
      benchmark::ClobberMemory();
    }
    state.SetLabel(pipe->interpreter().kernel_set_name());
  });
  reg("network/libtorch/" + tag, [subj, x, dt](benchmark::State& state) {
    if (!dt.ok) {
      state.SkipWithError(dt.error.c_str());
      return;
    }
    for (auto _ : state) {
      subj->net.probs_discard(x->data());
      benchmark::ClobberMemory();
    }
    set_diff_counters(state, dt);
    state.SetLabel("eager, InferenceMode");
  });
#ifdef TINYKWS_HAVE_XNNPACK
  reg("network/xnnpack/" + tag, [xnn, x, dx](benchmark::State& state) {
    if (!dx.ok) {
      state.SkipWithError(dx.error.c_str());
      return;
    }
    std::copy(x->begin(), x->end(), xnn->input());
    for (auto _ : state) {
      xnn->invoke();
      benchmark::DoNotOptimize(xnn->output());
      benchmark::ClobberMemory();
    }
    set_diff_counters(state, dx);
    state.SetLabel("subgraph, fp32, no threadpool");
  });
#endif
  auto cl = std::make_shared<std::vector<float>>(clip);
  reg("clip_to_probs/tinykws/" + tag, [pipe, cl](benchmark::State& state) {
    std::vector<float> probs(pipe->num_labels());
    for (auto _ : state) {
      pipe->run(cl->data(), probs.data());
      benchmark::DoNotOptimize(probs.data());
      benchmark::ClobberMemory();
    }
  });
  reg("clip_to_probs/libtorch/" + tag, [subj, tfe, cl, dc, feat_diff](benchmark::State& state) {
    if (!dc.ok) {
      state.SkipWithError(dc.error.c_str());
      return;
    }
    for (auto _ : state) {
      subj->net.run_clip_discard(*tfe, cl->data(), cl->size());
      benchmark::ClobberMemory();
    }
    state.counters["max_dprob"] = dc.prob;
    state.counters["max_dfeature"] = feat_diff;
    state.SetLabel("stft + mel/log/dct matmuls + eager net");
  });
  reg("frontend/libtorch/" + tag, [tfe, cl, dc](benchmark::State& state) {
    if (!dc.ok) {
      state.SkipWithError(dc.error.c_str());
      return;
    }
    for (auto _ : state) {
      tfe->features_discard(cl->data(), cl->size());
      benchmark::ClobberMemory();
    }
  });
  reg("frontend/tinykws/" + tag, [pipe, cl](benchmark::State& state) {
    std::vector<float> feats(static_cast<size_t>(pipe->num_frames()) * pipe->num_features());
    for (auto _ : state) {
      pipe->features(cl->data(), feats.data());
      benchmark::DoNotOptimize(feats.data());
      benchmark::ClobberMemory();
    }
  });
}

}  // namespace
}  // namespace tkws

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  tkws::torch_set_num_threads(1, 1);
  std::vector<std::shared_ptr<tkws::Subject>> subjects;
  subjects.push_back(std::make_shared<tkws::Subject>(tkws::make_dscnn(32, 4, 2)));
  if (const char* p = std::getenv("TINYKWS_BENCH_MODEL"); p && *p) {
    try {
      subjects.push_back(std::make_shared<tkws::Subject>(tkws::load_subject(p)));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "TINYKWS_BENCH_MODEL=%s: %s\n", p, e.what());
      return 1;
    }
  }
  for (const auto& s : subjects) tkws::register_subject(s);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
