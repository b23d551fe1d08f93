// check_model()'s int8 block (model.h, "int8 models"): each rule, broken once, gives a message
// naming the op or tensor and what was expected.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "../runtime/int8_test_util.h"
#include "tinykws/compress/quantize.h"

namespace tkws {
namespace {

Model quantised(const Model& f) {
  const std::vector<float> calib = int8_testing::random_features(f, 8, 5);
  return quantize_int8(f, calib.data(), 8);
}

void expect_rejected(const Model& base, const std::function<void(Model&)>& edit,
                     const std::string& want) {
  Model m = base;
  edit(m);
  const std::string e = check_model(m);
  EXPECT_NE(e.find(want), std::string::npos) << "expected \"" << want << "\" in \"" << e << "\"";
}

TEST(CheckModelInt8, QuantisedModelsPass) {
  EXPECT_EQ(check_model(quantised(int8_testing::ptq_model(1))), "");
  EXPECT_EQ(check_model(quantised(testing_models::tiny_model(1))), "");
}

TEST(CheckModelInt8, FloatModelsCarryNoQuantisation) {
  const Model f = int8_testing::ptq_model(1);
  expect_rejected(
      f, [](Model& m) { m.ops[0].out_quant.scale = {0.1f}, m.ops[0].out_quant.zero_point = {0}; },
      "op 0 (Conv2D): out_quant set in a float model");
  expect_rejected(
      f, [](Model& m) { m.ops[0].fused_activation = FusedActivation::kRelu; },
      "op 0 (Conv2D): fused activation set in a float model");
}

TEST(CheckModelInt8, EachRuleIsChecked) {
  const Model q = quantised(int8_testing::ptq_model(1));
  expect_rejected(
      q, [](Model& m) { m.input_quant.zero_point = {200}; },
      "input_quant: expected zero point in [-128, 127], found 200");
  expect_rejected(
      q, [](Model& m) { m.input_quant.scale = {0.0f}; },
      "input_quant: expected a finite scale > 0");
  expect_rejected(
      q,
      [](Model& m) {
        m.ops[1].out_quant.scale = {0.1f, 0.2f}, m.ops[1].out_quant.zero_point = {0, 0};
      },
      "op 1 (DepthwiseConv2D): out_quant: expected per-tensor params");
  expect_rejected(
      q, [](Model& m) { m.ops[1].out_quant = {}; },
      "op 1 (DepthwiseConv2D): out_quant: expected per-tensor params");
  expect_rejected(
      q, [](Model& m) { m.ops[3].fused_activation = FusedActivation::kRelu; },
      "op 3 (GlobalAvgPool): expected no fused activation");
  expect_rejected(
      q, [](Model& m) { m.tensors[m.ops[0].tensors[0]].i8[4] = -128; },
      "op 0 (Conv2D): expected weight 'conv1.weight' values in [-127, 127]");
  expect_rejected(
      q, [](Model& m) { m.tensors[m.ops[2].tensors[1]].quant.scale[3] *= 2.0f; },
      "op 2 (Conv2D): expected bias 'pw.bias' scale s_in * s_w");
  expect_rejected(
      q, [](Model& m) { m.tensors[m.ops[2].tensors[0]].quant.zero_point[1] = 1; },
      "op 2 (Conv2D): expected zero points 0 for weight and bias");
  expect_rejected(
      q,
      [](Model& m) {
        Tensor& w = m.tensors[m.ops[1].tensors[0]];
        w.quant.axis = -1, w.quant.scale.resize(1), w.quant.zero_point.resize(1);
      },
      "op 1 (DepthwiseConv2D): expected weight 'dw.weight' quantised per output channel (axis 0), "
      "found axis -1");
  expect_rejected(
      q, [](Model& m) { m.ops[2].tensors.pop_back(); },
      "op 2 (Conv2D): expected weight and bias in an int8 model, found 1 tensors");
  expect_rejected(
      q,
      [](Model& m) {
        Tensor& b = m.tensors[m.ops[4].tensors[1]];
        b.dtype = DType::kF32, b.f32.assign(b.i32.size(), 0.0f), b.i32.clear();
      },
      "op 4 (Dense): expected bias 'fc.bias' of dtype i32, found f32");
  expect_rejected(
      q, [](Model& m) { m.ops[5].out_quant.zero_point = {0}; },
      "op 5 (Softmax): expected out_quant scale 1/256, zero point -128");
  expect_rejected(
      q,
      [](Model& m) {
        Op bn;
        bn.type = OpType::kBatchNorm;
        bn.tensors = {m.ops[3].tensors.empty() ? 0u : 0u, 1u};
        Tensor s, b;
        s.name = "x.scale", b.name = "x.shift";
        s.shape = b.shape = {16};
        s.f32.assign(16, 1.0f), b.f32.assign(16, 0.0f);
        m.tensors.push_back(s), m.tensors.push_back(b);
        bn.tensors = {static_cast<uint32_t>(m.tensors.size() - 2),
                      static_cast<uint32_t>(m.tensors.size() - 1)};
        bn.out_quant = m.ops[3].out_quant;
        m.ops.insert(m.ops.begin() + 4, bn);
      },
      "op 4 (BatchNorm): not allowed in an int8 model");
}

TEST(CheckModelInt8, PoolsKeepTheirInputParams) {
  const Model q = quantised(testing_models::tiny_model(1));
  ASSERT_EQ(q.ops[3].type, OpType::kMaxPool2D);
  expect_rejected(
      q, [](Model& m) { m.ops[3].out_quant.zero_point[0] += 1; },
      "op 3 (MaxPool2D): expected out_quant equal to its input's");
}

}  // namespace
}  // namespace tkws
