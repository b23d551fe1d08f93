// Helpers of the int8 / PTQ tests (tests/runtime and tests/compress): a small DS-CNN-like float
// model built in code, its committed int8 form, random normalised features, and a float forward
// pass that keeps every op's output. Needs no compress/ code, so a runtime-only build runs the
// int8 runtime tests.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../format/test_models.h"
#include "tinykws/format/model.h"
#include "tinykws/format/tkws.h"
#include "tinykws/runtime/int8_network.h"
#include "tinykws/runtime/ops.h"

namespace tkws::int8_testing {

using testing_models::Rng;

// Uniform(-a, a) weights with a = gain * sqrt(3 / fan_in): variance gain^2 / fan_in.
inline uint32_t add_weight(Model& m, const std::string& name, std::vector<int32_t> shape,
                           int fan_in, Rng& rng, float gain = 1.4f) {
  const float a = gain * std::sqrt(3.0f / static_cast<float>(fan_in));
  return testing_models::add_tensor(m, name, std::move(shape), rng, -a, a);
}

// BatchNorm in inference form with non-trivial statistics: scale = gamma / sqrt(var + eps)
// with gamma of either sign, shift = beta - mean * scale.
inline void add_batch_norm(Model& m, const std::string& name, int ch, Rng& rng) {
  Tensor s, b;
  s.name = name + ".scale";
  b.name = name + ".shift";
  s.shape = b.shape = {ch};
  for (int c = 0; c < ch; ++c) {
    const float gamma = rng.uniform(0.5f, 1.5f) * (rng.below(8) == 0 ? -1.0f : 1.0f);
    const float var = rng.uniform(0.2f, 3.0f), mean = rng.uniform(-0.6f, 0.6f);
    const float scale = gamma / std::sqrt(var + 1e-3f);
    s.f32.push_back(scale);
    b.f32.push_back(rng.uniform(-0.4f, 0.6f) - mean * scale);
  }
  m.tensors.push_back(std::move(s));
  m.tensors.push_back(std::move(b));
  Op op;
  op.type = OpType::kBatchNorm;
  op.tensors = {static_cast<uint32_t>(m.tensors.size() - 2),
                static_cast<uint32_t>(m.tensors.size() - 1)};
  m.ops.push_back(op);
}

inline Op window(OpType t, int k, int s, std::vector<uint32_t> tensors = {}, int out_c = 0) {
  return testing_models::window_op(t, k, s, Padding::kSame, std::move(tensors), out_c);
}

// GAP -> dense (`gain`, see add_weight) -> softmax: the end of the test models.
inline void add_classifier(Model& m, int ch, int num_labels, Rng& rng, float gain) {
  m.ops.push_back(testing_models::simple_op(OpType::kGlobalAvgPool));
  const uint32_t fw = add_weight(m, "fc.weight", {num_labels, ch}, ch, rng, gain);
  const uint32_t fb = testing_models::add_tensor(m, "fc.bias", {num_labels}, rng, -0.3f, 0.3f);
  m.ops.push_back(testing_models::simple_op(OpType::kDense, {fw, fb}, num_labels));
  m.ops.push_back(testing_models::simple_op(OpType::kSoftmax));
}

// Every op's output of an Int8Network, dequantised: out[op] after each invoke().
struct StepOutputs {
  std::vector<std::vector<float>> out;
  void attach(Int8Network& net, size_t n_ops) {
    out.resize(n_ops);
    net.set_step_hook(
        [](void* user, const Int8StepEvent& e) {
          auto* c = static_cast<StepOutputs*>(user);
          c->out[e.op].resize(e.shape.size());
          int8_dequantize(e.output, e.shape.size(), e.scale, e.zero_point, c->out[e.op].data());
        },
        this);
  }
};

// The PTQ test model on 49x10 features (default front end): conv 3x3/2 -> BN -> ReLU ->
// dw 3x3 -> BN -> ReLU -> pw 1x1 -> BN -> ReLU -> GAP -> dense -> softmax.
// Float ops 2, 5, 8, 9, 10, 11 end the int8 model's 6 ops.
inline Model ptq_model(uint64_t seed, int ch = 16, int num_labels = 4) {
  Rng rng(seed);
  Model m;
  for (int i = 0; i < num_labels; ++i) m.labels.push_back("class" + std::to_string(i));
  const uint32_t c1 = add_weight(m, "conv1.weight", {ch, 1, 3, 3}, 9, rng);
  const uint32_t c1b = testing_models::add_tensor(m, "conv1.bias", {ch}, rng, -0.2f, 0.2f);
  m.ops.push_back(window(OpType::kConv2D, 3, 2, {c1, c1b}, ch));
  add_batch_norm(m, "bn1", ch, rng);
  m.ops.push_back(testing_models::simple_op(OpType::kRelu));
  const uint32_t dw = add_weight(m, "dw.weight", {ch, 1, 3, 3}, 9, rng);
  m.ops.push_back(window(OpType::kDepthwiseConv2D, 3, 1, {dw}));
  add_batch_norm(m, "bn_dw", ch, rng);
  m.ops.push_back(testing_models::simple_op(OpType::kRelu));
  const uint32_t pw = add_weight(m, "pw.weight", {ch, ch, 1, 1}, ch, rng);
  m.ops.push_back(window(OpType::kConv2D, 1, 1, {pw}, ch));
  add_batch_norm(m, "bn_pw", ch, rng);
  m.ops.push_back(testing_models::simple_op(OpType::kRelu));
  add_classifier(m, ch, num_labels, rng, 4.0f);
  return m;
}

// seed-b's pattern (configs/seed-b.toml) on 49x10 features: conv 3x3 -> maxpool 2 -> BN ->
// ReLU -> dw 3x3 -> pw 1x1 -> maxpool 2 -> BN -> ReLU -> GAP -> dense -> softmax. Both
// BatchNorms follow a MaxPool2D. With negative_scales, some of their scales are negative (they
// do not commute with the max: quantize_int8 makes them 1x1 depthwise convolutions); else all
// are positive (quantize_int8 moves them before the pool and folds them).
inline Model pool_bn_model(uint64_t seed, int ch = 16, int num_labels = 4,
                           bool negative_scales = true) {
  Rng rng(seed);
  Model m;
  for (int i = 0; i < num_labels; ++i) m.labels.push_back("class" + std::to_string(i));
  const uint32_t c1 = add_weight(m, "conv1.weight", {ch, 1, 3, 3}, 9, rng);
  m.ops.push_back(window(OpType::kConv2D, 3, 1, {c1}, ch));
  m.ops.push_back(window(OpType::kMaxPool2D, 2, 2));
  add_batch_norm(m, "bn1", ch, rng);
  m.ops.push_back(testing_models::simple_op(OpType::kRelu));
  const uint32_t dw = add_weight(m, "dw.weight", {ch, 1, 3, 3}, 9, rng);
  m.ops.push_back(window(OpType::kDepthwiseConv2D, 3, 1, {dw}));
  const uint32_t pw = add_weight(m, "pw.weight", {ch, ch, 1, 1}, ch, rng);
  m.ops.push_back(window(OpType::kConv2D, 1, 1, {pw}, ch));
  m.ops.push_back(window(OpType::kMaxPool2D, 2, 2));
  add_batch_norm(m, "bn2", ch, rng);
  m.ops.push_back(testing_models::simple_op(OpType::kRelu));
  add_classifier(m, ch, num_labels, rng, 2.0f);
  for (const size_t bn : {size_t{2}, size_t{7}}) {
    std::vector<float>& scale = m.tensors[m.ops[bn].tensors[0]].f32;
    if (negative_scales) {
      scale[bn % static_cast<size_t>(ch)] = -std::fabs(scale[bn % static_cast<size_t>(ch)]);
    } else {
      for (float& s : scale) s = std::fabs(s);
    }
  }
  return m;
}

// The committed int8 model tests/fixtures/ptq_model3_int8.tkws: quantize_int8(ptq_model(3)) with
// calibration inputs random_features(ptq_model(3), 8, 1). tests/compress/quantize_test.cpp
// checks that quantize_int8 still writes exactly these bytes (and rewrites the file when
// TINYKWS_UPDATE_FIXTURES is set).
inline std::string int8_fixture_path() {
  return std::string(TINYKWS_SOURCE_DIR) + "/tests/fixtures/ptq_model3_int8.tkws";
}
inline Model int8_fixture() {
  return read_model(int8_fixture_path());
}

// n inputs of [frames][features] normalised features: per-input offset and gain, plus noise,
// so inputs differ in level and the network's outputs spread.
inline std::vector<float> random_features(const Model& m, int n, uint64_t seed) {
  Rng rng(seed);
  const size_t size = model_input_shape(m).size();
  std::vector<float> x(size * static_cast<size_t>(n));
  for (int s = 0; s < n; ++s) {
    const float offset = rng.uniform(-0.5f, 0.5f), gain = rng.uniform(0.5f, 1.5f);
    for (size_t i = 0; i < size; ++i)
      x[s * size + i] = offset + gain * (rng.uniform() + rng.uniform() + rng.uniform());
  }
  return x;
}

// Float ops [first, last] of `m` with the reference kernels on input x of shape `shape`:
// outputs[i - first] = output of op i.
inline std::vector<std::vector<float>> float_ops(const Model& m, size_t first, size_t last,
                                                 ActShape shape, const float* x) {
  std::vector<std::vector<float>> outs;
  std::vector<float> cur(x, x + shape.size());
  for (size_t i = first; i <= last; ++i) {
    const Op& op = m.ops[i];
    KernelArgs a;
    a.in = shape;
    if (!op_output_shape(m, i, shape, &a.out).empty()) return {};
    a.win = op_window(op, shape);
    if (op.tensors.size() > 0) a.w = m.tensors[op.tensors[0]].f32.data();
    if (op.tensors.size() > 1) a.b = m.tensors[op.tensors[1]].f32.data();
    std::vector<float> next(a.out.size());
    op_info(op.type)->reference(a, cur.data(), next.data(), nullptr);
    outs.push_back(next);
    cur = std::move(next);
    shape = a.out;
  }
  return outs;
}

// The whole float model: outputs[i] = output of op i.
inline std::vector<std::vector<float>> float_forward(const Model& m, const float* x) {
  return float_ops(m, 0, m.ops.size() - 1, model_input_shape(m), x);
}

}  // namespace tkws::int8_testing
