// Model IR: op names, windows (TF padding), shape rules and check_model's messages.
#include "tinykws/format/model.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "test_models.h"
#include "tinykws/common/utf8.h"

namespace tkws {
namespace {

using testing_models::tiny_model;

TEST(Model, OpNamesAndHelpers) {
  EXPECT_STREQ(op_name(OpType::kConv2D), "Conv2D");
  EXPECT_STREQ(op_name(OpType::kSoftmax), "Softmax");
  EXPECT_STREQ(op_name(OpType::kCount), "?");
  EXPECT_STREQ(op_name(static_cast<OpType>(0)), "?");
  EXPECT_STREQ(dtype_name(DType::kI8), "i8");
  EXPECT_EQ(dtype_bytes(DType::kF16), 2u);
  EXPECT_EQ(dtype_bytes(static_cast<DType>(9)), 0u);
  EXPECT_STREQ(encoding_name(Encoding::kClustered), "clustered");
  Tensor t;
  EXPECT_EQ(t.numel(), 1u);  // scalar
  t.shape = {2, 3, 4};
  EXPECT_EQ(t.numel(), 24u);
  t.shape = {2, 0};
  EXPECT_EQ(t.numel(), 0u);
  const Model m = tiny_model();
  EXPECT_EQ(m.find_tensor("pw1.bias"), 8);
  EXPECT_EQ(m.find_tensor("nope"), -1);
}

Window window(int in_h, int in_w, int k, int s, Padding p) {
  Op op;
  op.kernel_h = op.kernel_w = k;
  op.stride_h = op.stride_w = s;
  op.padding = p;
  return op_window(op, ActShape{in_h, in_w, 1});
}

TEST(Model, WindowFollowsTensorFlowPadding) {
  // same: out = ceil(in / s), pad_total = max((out - 1) s + k - in, 0), before = total / 2.
  Window w = window(49, 10, 3, 2, Padding::kSame);
  EXPECT_EQ(w.out_h, 25);  // pad_total = 24*2 + 3 - 49 = 2 -> 1 before, 1 after
  EXPECT_EQ(w.pad_top, 1);
  EXPECT_EQ(w.out_w, 5);  // pad_total = 4*2 + 3 - 10 = 1 -> 0 before, 1 after (asymmetric)
  EXPECT_EQ(w.pad_left, 0);
  w = window(8, 8, 4, 2, Padding::kSame);  // pad_total = 3*2 + 4 - 8 = 2
  EXPECT_EQ(w.out_h, 4);
  EXPECT_EQ(w.pad_top, 1);
  w = window(4, 5, 3, 3, Padding::kSame);  // h: pad_total = 1*3 + 3 - 4 = 2 -> 1 before
  EXPECT_EQ(w.out_h, 2);
  EXPECT_EQ(w.pad_top, 1);
  EXPECT_EQ(w.out_w, 2);  // w: pad_total = max(1*3 + 3 - 5, 0) = 1 -> 0 before, 1 after
  EXPECT_EQ(w.pad_left, 0);
  w = window(7, 2, 3, 1, Padding::kSame);  // kernel wider than the input
  EXPECT_EQ(w.out_w, 2);
  EXPECT_EQ(w.pad_left, 1);
  // valid: out = (in - k) / s + 1, no padding.
  w = window(49, 10, 3, 2, Padding::kValid);
  EXPECT_EQ(w.out_h, 24);
  EXPECT_EQ(w.out_w, 4);
  EXPECT_EQ(w.pad_top, 0);
  EXPECT_EQ(window(2, 2, 3, 1, Padding::kValid).out_h, 0);
}

TEST(Model, TfPaddingPerAxis) {
  int out, before, after;
  tf_padding(49, 3, 2, Padding::kSame, &out, &before, &after);
  EXPECT_EQ(out, 25);
  EXPECT_EQ(before, 1);
  EXPECT_EQ(after, 1);
  tf_padding(10, 3, 2, Padding::kSame, &out, &before, &after);  // total 1: all at the end
  EXPECT_EQ(out, 5);
  EXPECT_EQ(before, 0);
  EXPECT_EQ(after, 1);
  tf_padding(10, 3, 2, Padding::kValid, &out, &before, &after);
  EXPECT_EQ(out, 4);
}

TEST(Model, NormaliseFeaturesSubtractsThenScales) {
  float x[6] = {1, 2, 3, 4, 5, 6};  // 3 rows of 2 features
  const float mean[2] = {1, 2}, inv_std[2] = {0.5f, 2};
  normalise_features(x, 3, 2, mean, inv_std);
  const float want[6] = {0, 0, 1, 4, 2, 8};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(x[i], want[i]) << i;
  normalise_features(x, 3, 2, nullptr, nullptr);  // identity
  EXPECT_EQ(x[5], 8.0f);
  normalise_features(x, 1, 2, nullptr, inv_std);  // scale only
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_EQ(x[1], 0.0f);
}

TEST(Model, TinyModelIsValidAndShapesFollowTheOps) {
  const Model m = tiny_model();
  EXPECT_EQ(check_model(m), "");
  ActShape s = model_input_shape(m);
  EXPECT_EQ(s, (ActShape{7, 10, 1}));
  const ActShape want[] = {{4, 5, 4}, {4, 5, 4}, {4, 5, 4}, {4, 5, 4}, {4, 5, 4},
                           {4, 5, 4}, {4, 5, 6}, {4, 5, 6}, {2, 3, 6}, {1, 2, 6},
                           {1, 1, 6}, {1, 1, 3}, {1, 1, 3}};
  ASSERT_EQ(m.ops.size(), std::size(want));
  for (size_t i = 0; i < m.ops.size(); ++i) {
    ActShape out;
    ASSERT_EQ(op_output_shape(m, i, s, &out), "") << i;
    EXPECT_EQ(out, want[i]) << "op " << i;
    s = out;
  }
}

// Each damage to a valid model, and the words its message must contain.
struct Damage {
  const char* name;
  std::function<void(Model&)> edit;
  const char* expect;
};

TEST(Model, CheckModelSaysExpectedAndFound) {
  const Damage cases[] = {
      {"weight in_ch",
       [](Model& m) {
         m.tensors[0].shape = {4, 2, 3, 3};
         m.tensors[0].f32.resize(72);
       },
       "op 0 (Conv2D): expected weight 'conv1.weight' [4][1][3][3], found [4][2][3][3]"},
      {"kernel vs weight", [](Model& m) { m.ops[0].kernel_h = 5; },
       "op 0 (Conv2D): expected weight 'conv1.weight' [4][1][5][3], found [4][1][3][3]"},
      {"bias size",
       [](Model& m) {
         m.tensors[1].shape = {5};
         m.tensors[1].f32.resize(5);
       },
       "op 0 (Conv2D): expected bias 'conv1.bias' [4], found [5]"},
      {"out_channels", [](Model& m) { m.ops[0].out_channels = 8; },
       "op 0 (Conv2D): expected out_channels 4 (weight dim 0), found 8"},
      {"tensor index", [](Model& m) { m.ops[0].tensors[1] = 99; },
       "op 0 (Conv2D): expected tensor index < 11, found 99"},
      {"tensor count", [](Model& m) { m.ops[1].tensors.pop_back(); },
       "op 1 (BatchNorm): expected 2 tensors, found 1"},
      {"relu with tensors", [](Model& m) { m.ops[2].tensors = {0}; },
       "op 2 (Relu): expected 0 tensors, found 1"},
      {"bn channels",
       [](Model& m) {
         m.ops[1].tensors = {0, 1};
       },
       "op 1 (BatchNorm): expected scale 'conv1.weight' [4], found [4][1][3][3]"},
      {"depthwise",
       [](Model& m) {
         m.tensors[4].shape = {4, 2, 3, 3};
         m.tensors[4].f32.resize(72);
       },
       "op 3 (DepthwiseConv2D): expected weight 'dw1.weight' [4][1][3][3], found [4][2][3][3]"},
      {"dense in", [](Model& m) { m.ops.erase(m.ops.begin() + 10); },  // drop GAP
       "op 10 (Dense): expected weight 'fc.weight' [3][12], found [3][6]"},
      {"stride", [](Model& m) { m.ops[0].stride_w = 0; },
       "op 0 (Conv2D): expected stride in [1, 1024], found 2x0"},
      {"valid too big", [](Model& m) { m.ops[9].kernel_h = m.ops[9].kernel_w = 3; },
       "op 9 (AvgPool2D): expected input of at least 3x3 for valid padding, found 2x3"},
      {"padding", [](Model& m) { m.ops[8].padding = static_cast<Padding>(5); },
       "op 8 (MaxPool2D): unknown padding 5"},
      {"op type", [](Model& m) { m.ops[2].type = static_cast<OpType>(77); },
       "op 2 (?): unknown op type 77"},
      {"no ops", [](Model& m) { m.ops.clear(); }, "ops: expected at least 1, found 0"},
      {"output size", [](Model& m) { m.labels.push_back("left"); },
       "output: expected 4 values (one per label), found 1x1x3 = 3"},
      {"no labels", [](Model& m) { m.labels.clear(); }, "labels: expected at least 1, found 0"},
      {"dup label", [](Model& m) { m.labels[2] = "down"; }, "label 2 'down': duplicate name"},
      {"empty label", [](Model& m) { m.labels[1].clear(); }, "label 1: expected a non-empty name"},
      {"label not UTF-8", [](Model& m) { m.labels[1] = "u\xA9p"; },
       "label 1: expected UTF-8 text without control characters"},
      {"label with a tab", [](Model& m) { m.labels[0] = "up\tdown"; },
       "label 0: expected UTF-8 text"},
      {"tensor name not UTF-8", [](Model& m) { m.tensors[1].name = "w\xC0\x80"; },
       "tensor 1: expected a name of UTF-8 text"},
      {"norm mean", [](Model& m) { m.norm_mean.pop_back(); },
       "norm_mean: expected 0 or 10 values (num_features), found 9"},
      {"norm inv std", [](Model& m) { m.norm_inv_std.push_back(1); },
       "norm_inv_std: expected 0 or 10 values (num_features), found 11"},
      {"front end", [](Model& m) { m.frontend.num_mfcc = 50; },
       "front end: frontend.num_mfcc = 50 must be in [1, num_mel_bins = 40]"},
      {"dup tensor", [](Model& m) { m.tensors[1].name = "conv1.weight"; },
       "tensor 1 'conv1.weight': duplicate name"},
      {"values", [](Model& m) { m.tensors[1].f32.pop_back(); },
       "tensor 1 'conv1.bias': dtype f32 with shape [4]: expected 4/0/0 f32/i8/i32 values, "
       "found 3/0/0"},
      {"dims", [](Model& m) { m.tensors[1].shape = {0}; },
       "tensor 1 'conv1.bias': expected dims >= 1, found [0]"},
      {"int8 no quant",
       [](Model& m) {
         Tensor& t = m.tensors[1];
         t.dtype = DType::kI8;
         t.i8.assign(4, 1);
         t.f32.clear();
       },
       "tensor 1 'conv1.bias': expected quant params for integer dtype i8"},
      {"quant count",
       [](Model& m) {
         Tensor& t = m.tensors[0];
         t.quant.axis = 0;
         t.quant.scale = {1, 1};
         t.quant.zero_point = {0, 0};
       },
       "tensor 0 'conv1.weight': expected 4 quant scales for axis 0, found 2"},
      {"zero points", [](Model& m) { m.tensors[0].quant.scale = {1}; },
       "tensor 0 'conv1.weight': expected as many zero points as scales (1), found 0"},
      {"dtype", [](Model& m) { m.tensors[0].dtype = static_cast<DType>(8); },
       "tensor 0 'conv1.weight': unknown dtype 8"},
      {"encoding", [](Model& m) { m.tensors[0].encoding = static_cast<Encoding>(9); },
       "tensor 0 'conv1.weight': unknown encoding 9"},
  };
  for (const Damage& d : cases) {
    Model m = tiny_model();
    d.edit(m);
    const std::string e = check_model(m);
    EXPECT_NE(e.find(d.expect), std::string::npos) << d.name << ": got \"" << e << "\"";
  }
}

TEST(Model, OptionalBiasAndFlattenedDense) {
  Model m = tiny_model();
  m.ops[0].tensors.pop_back();  // conv without bias
  EXPECT_EQ(check_model(m), "");
  // Dense straight on a [2][3][6] activation: 36 inputs in NHWC order.
  m = tiny_model();
  m.ops.erase(m.ops.begin() + 9, m.ops.begin() + 11);  // drop avgpool and GAP
  Tensor& w = m.tensors[m.find_tensor("fc.weight")];
  w.shape = {3, 36};
  w.f32.assign(108, 0.1f);
  EXPECT_EQ(check_model(m), "");
}

// The names rule of labels and tensor names (common/utf8.h).
TEST(Utf8Text, AcceptsWellFormedTextOnly) {
  EXPECT_TRUE(is_utf8_text("up"));
  EXPECT_TRUE(is_utf8_text(""));
  EXPECT_TRUE(is_utf8_text("caf\xC3\xA9"));        // é
  EXPECT_TRUE(is_utf8_text("\xE2\x82\xAC"));       // €
  EXPECT_TRUE(is_utf8_text("\xF0\x9F\x8E\xA4"));   // U+1F3A4
  EXPECT_TRUE(is_utf8_text("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_FALSE(is_utf8_text("\xA9"));              // a continuation byte first
  EXPECT_FALSE(is_utf8_text("\xC3"));              // cut short
  EXPECT_FALSE(is_utf8_text("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(is_utf8_text("\xE0\x9F\xBF"));      // overlong (U+07FF in 3 bytes)
  EXPECT_FALSE(is_utf8_text("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(is_utf8_text("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_utf8_text("\xE2\x28\xA1"));      // a bad continuation
  EXPECT_FALSE(is_utf8_text("a\nb"));
  EXPECT_FALSE(is_utf8_text(std::string_view("a\0b", 3)));
  EXPECT_TRUE(is_utf8_text("a\nb", /*allow_control=*/true));
}

}  // namespace
}  // namespace tkws
