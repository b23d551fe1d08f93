// Small models built in code for the format and runtime tests (random weights, fixed seed).
// Header-only; tests/runtime includes it too.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/format/model.h"

namespace tkws::testing_models {

// Deterministic on every platform (std distributions are not): xorshift64*, uniform [lo, hi).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s_ ^= s_ >> 12, s_ ^= s_ << 25, s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1Dull;
  }
  float uniform(float lo = -1.0f, float hi = 1.0f) {
    return lo + (hi - lo) * static_cast<float>(next() >> 40) * (1.0f / 16777216.0f);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }

 private:
  uint64_t s_;
};

// n values uniform in [lo, hi) from Rng(seed): test inputs.
inline std::vector<float> uniform_vector(size_t n, uint64_t seed, float lo, float hi) {
  Rng rng(seed);
  std::vector<float> x(n);
  for (float& v : x) v = rng.uniform(lo, hi);
  return x;
}

inline uint32_t add_tensor(Model& m, const std::string& name, std::vector<int32_t> shape, Rng& rng,
                           float lo = -1.0f, float hi = 1.0f) {
  Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.f32.resize(t.numel());
  for (float& v : t.f32) v = rng.uniform(lo, hi);
  m.tensors.push_back(std::move(t));
  return static_cast<uint32_t>(m.tensors.size() - 1);
}

inline Op window_op(OpType type, int k, int s, Padding p, std::vector<uint32_t> tensors = {},
                    int out_channels = 0) {
  Op op;
  op.type = type;
  op.kernel_h = op.kernel_w = k;
  op.stride_h = op.stride_w = s;
  op.padding = p;
  op.tensors = std::move(tensors);
  op.out_channels = out_channels;
  return op;
}

inline Op simple_op(OpType type, std::vector<uint32_t> tensors = {}, int out_channels = 0) {
  Op op;
  op.type = type;
  op.tensors = std::move(tensors);
  op.out_channels = out_channels;
  return op;
}

inline void add_bn(Model& m, const std::string& name, int ch, Rng& rng) {
  const uint32_t s = add_tensor(m, name + ".scale", {ch}, rng, 0.5f, 1.5f);
  const uint32_t b = add_tensor(m, name + ".shift", {ch}, rng, -0.5f, 0.5f);
  m.ops.push_back(simple_op(OpType::kBatchNorm, {s, b}));
}

// A tiny model that uses every op type: input 7 frames x 10 MFCC (clip of 2560 samples),
//   conv1 3x3/2 same -> 4 ch [4][5][4], BN, ReLU, dw 3x3/1 same, BN, ReLU,
//   pw 1x1 -> 6 ch, ReLU, maxpool 2x2/2 same [2][3][6], avgpool 2x2/1 valid [1][2][6],
//   GAP [1][1][6], dense 3, softmax. Labels "down", "up", "_silence_".
inline Model tiny_model(uint64_t seed = 1) {
  Rng rng(seed);
  Model m;
  m.frontend.clip_samples = 2560;  // 1 + (2560 - 640) / 320 = 7 frames
  m.labels = {"down", "up", "_silence_"};
  for (int k = 0; k < 10; ++k) {
    m.norm_mean.push_back(rng.uniform(-2, 2));
    m.norm_inv_std.push_back(rng.uniform(0.5f, 2));
  }
  const uint32_t c1w = add_tensor(m, "conv1.weight", {4, 1, 3, 3}, rng);
  const uint32_t c1b = add_tensor(m, "conv1.bias", {4}, rng);
  m.ops.push_back(window_op(OpType::kConv2D, 3, 2, Padding::kSame, {c1w, c1b}, 4));
  add_bn(m, "bn1", 4, rng);
  m.ops.push_back(simple_op(OpType::kRelu));
  const uint32_t dw = add_tensor(m, "dw1.weight", {4, 1, 3, 3}, rng);
  m.ops.push_back(window_op(OpType::kDepthwiseConv2D, 3, 1, Padding::kSame, {dw}));
  add_bn(m, "bn2", 4, rng);
  m.ops.push_back(simple_op(OpType::kRelu));
  const uint32_t pw = add_tensor(m, "pw1.weight", {6, 4, 1, 1}, rng);
  const uint32_t pb = add_tensor(m, "pw1.bias", {6}, rng);
  m.ops.push_back(window_op(OpType::kConv2D, 1, 1, Padding::kValid, {pw, pb}, 6));
  m.ops.push_back(simple_op(OpType::kRelu));
  m.ops.push_back(window_op(OpType::kMaxPool2D, 2, 2, Padding::kSame));
  m.ops.push_back(window_op(OpType::kAvgPool2D, 2, 1, Padding::kValid));
  m.ops.push_back(simple_op(OpType::kGlobalAvgPool));
  const uint32_t fw = add_tensor(m, "fc.weight", {3, 6}, rng);
  const uint32_t fb = add_tensor(m, "fc.bias", {3}, rng);
  m.ops.push_back(simple_op(OpType::kDense, {fw, fb}, 3));
  m.ops.push_back(simple_op(OpType::kSoftmax));
  m.metadata_json = R"({"test":"tiny_model","seed":)" + std::to_string(seed) + "}";
  return m;
}

// A minimal valid int8 model (model.h, "int8 models") on the tiny front end (7 x 10 features):
// Dense 70 -> 3 with int8 weights (per tensor), int32 bias and a fused ReLU, then Softmax.
inline Model int8_dense_model(uint64_t seed = 2) {
  Rng rng(seed);
  Model m;
  m.frontend.clip_samples = 2560;
  m.labels = {"down", "up", "_silence_"};
  m.input_quant.scale = {0.05f};
  m.input_quant.zero_point = {3};
  const float s_w = 0.01f;
  Tensor w;
  w.name = "fc.weight";
  w.dtype = DType::kI8;
  w.shape = {3, 70};
  for (int i = 0; i < 210; ++i) w.i8.push_back(static_cast<int8_t>(rng.below(255) - 127));
  w.quant.scale = {s_w};
  w.quant.zero_point = {0};
  Tensor b;
  b.name = "fc.bias";
  b.dtype = DType::kI32;
  b.shape = {3};
  b.i32 = {1200, -300, 45};
  b.quant.scale = {0.05f * s_w};
  b.quant.zero_point = {0};
  m.tensors = {w, b};
  Op fc = simple_op(OpType::kDense, {0, 1}, 3);
  fc.fused_activation = FusedActivation::kRelu;
  fc.out_quant.scale = {0.1f};
  fc.out_quant.zero_point = {-5};
  Op sm = simple_op(OpType::kSoftmax);
  sm.out_quant.scale = {1.0f / 256.0f};
  sm.out_quant.zero_point = {-128};
  m.ops = {fc, sm};
  return m;
}

// The DS-CNN of the benchmark: 49x10 input (course front end: 16000 samples, 640/320, fft 640,
// 40 mel, 10 MFCC), conv 3x3/2 same -> `ch`, BN, ReLU, then `blocks` x [dw 3x3, BN, ReLU,
// pw 1x1 -> ch, BN, ReLU], GAP, dense `labels`, softmax. Conv biases omitted as after export
// of bias-free convs followed by BN.
inline Model dscnn_model(int ch = 32, int blocks = 4, int num_labels = 2, uint64_t seed = 7) {
  Rng rng(seed);
  Model m;
  m.frontend.fft_length = 640;
  for (int i = 0; i < num_labels; ++i) m.labels.push_back("label" + std::to_string(i));
  const uint32_t c1 = add_tensor(m, "conv1.weight", {ch, 1, 3, 3}, rng, -0.5f, 0.5f);
  m.ops.push_back(window_op(OpType::kConv2D, 3, 2, Padding::kSame, {c1}, ch));
  add_bn(m, "bn1", ch, rng);
  m.ops.push_back(simple_op(OpType::kRelu));
  for (int b = 0; b < blocks; ++b) {
    const std::string p = "block" + std::to_string(b);
    const uint32_t dw = add_tensor(m, p + ".dw.weight", {ch, 1, 3, 3}, rng, -0.5f, 0.5f);
    m.ops.push_back(window_op(OpType::kDepthwiseConv2D, 3, 1, Padding::kSame, {dw}));
    add_bn(m, p + ".bn_dw", ch, rng);
    m.ops.push_back(simple_op(OpType::kRelu));
    const uint32_t pw = add_tensor(m, p + ".pw.weight", {ch, ch, 1, 1}, rng, -0.3f, 0.3f);
    m.ops.push_back(window_op(OpType::kConv2D, 1, 1, Padding::kSame, {pw}, ch));
    add_bn(m, p + ".bn_pw", ch, rng);
    m.ops.push_back(simple_op(OpType::kRelu));
  }
  m.ops.push_back(simple_op(OpType::kGlobalAvgPool));
  const uint32_t fw = add_tensor(m, "fc.weight", {num_labels, ch}, rng);
  const uint32_t fb = add_tensor(m, "fc.bias", {num_labels}, rng);
  m.ops.push_back(simple_op(OpType::kDense, {fw, fb}, num_labels));
  m.ops.push_back(simple_op(OpType::kSoftmax));
  return m;
}

}  // namespace tkws::testing_models
