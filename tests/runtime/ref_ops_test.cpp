// Reference kernels against small cases computed by hand (values in the comments). Inputs are
// small integers, so every expected value is exact in float.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tinykws/runtime/ops.h"

namespace tkws {
namespace {

using Vec = std::vector<float>;

// Runs `fn` on `in` with the window of an op (k, s, padding) and returns the output.
Vec run(KernelFn fn, ActShape in_shape, ActShape out_shape, const Vec& in, const Vec& w = {},
        const Vec& b = {}, int kh = 1, int kw = 1, int sh = 1, int sw = 1,
        Padding pad = Padding::kValid) {
  Op op;
  op.kernel_h = kh, op.kernel_w = kw, op.stride_h = sh, op.stride_w = sw, op.padding = pad;
  KernelArgs a;
  a.in = in_shape;
  a.out = out_shape;
  a.win = op_window(op, in_shape);
  EXPECT_EQ(in.size(), in_shape.size());
  if (kh > 1 || kw > 1 || sh > 1 || sw > 1) {
    EXPECT_EQ(a.win.out_h, out_shape.h);
    EXPECT_EQ(a.win.out_w, out_shape.w);
  }
  a.w = w.empty() ? nullptr : w.data();
  a.b = b.empty() ? nullptr : b.data();
  Vec out(out_shape.size(), -999.0f);
  fn(a, in.data(), out.data(), nullptr);
  return out;
}

Vec iota(int n, float start = 1.0f) {
  Vec v(n);
  for (int i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

TEST(RefOps, OpTableCoversEveryOp) {
  for (int t = 1; t < static_cast<int>(OpType::kCount); ++t) {
    const OpInfo* info = op_info(static_cast<OpType>(t));
    ASSERT_NE(info, nullptr) << t;
    EXPECT_STRNE(op_name(static_cast<OpType>(t)), "?");
    EXPECT_NE(info->reference, nullptr);
  }
  EXPECT_EQ(op_info(static_cast<OpType>(0)), nullptr);
  EXPECT_EQ(op_info(OpType::kCount), nullptr);
}

TEST(RefOps, Conv2DValid) {
  // 3x3 input 1..9, one 2x2 filter of ones, bias 1: window sums + 1.
  const Vec out = run(ref_conv2d, {3, 3, 1}, {2, 2, 1}, iota(9), Vec(4, 1.0f), {1.0f}, 2, 2);
  EXPECT_EQ(out, (Vec{13, 17, 25, 29}));  // 1+2+4+5+1, 2+3+5+6+1, 4+5+7+8+1, 5+6+8+9+1
}

TEST(RefOps, Conv2DSameStride2PadsBottomRightOnly) {
  // 4x4 input 1..16, 3x3 ones, stride 2, TF same: out 2x2, pad_total = 1*2 + 3 - 4 = 1 ->
  // 0 rows/cols before, 1 after. (PyTorch padding=1 would give 14 at (0,0) instead of 54.)
  const Vec out =
      run(ref_conv2d, {4, 4, 1}, {2, 2, 1}, iota(16), Vec(9, 1.0f), {}, 3, 3, 2, 2, Padding::kSame);
  EXPECT_EQ(out, (Vec{54, 45, 72, 54}));
  // (0,0) 1+2+3+5+6+7+9+10+11, (0,1) 3+4+7+8+11+12, (1,0) 9+10+11+13+14+15, (1,1) 11+12+15+16
}

TEST(RefOps, Conv2DSameOddInputPadsBothSides) {
  // 5x5 input, 3x3 ones, stride 2: out 3x3, pad_total = 2*2 + 3 - 5 = 2 -> 1 before, 1 after.
  const Vec out =
      run(ref_conv2d, {5, 5, 1}, {3, 3, 1}, iota(25), Vec(9, 1.0f), {}, 3, 3, 2, 2, Padding::kSame);
  EXPECT_EQ(out[0], 1 + 2 + 6 + 7);                            // rows -1..1, cols -1..1
  EXPECT_EQ(out[4], 7 + 8 + 9 + 12 + 13 + 14 + 17 + 18 + 19);  // centred on 13
  EXPECT_EQ(out[8], 19 + 20 + 24 + 25);
}

TEST(RefOps, Conv2DChannelsUsePyTorchWeightLayout) {
  // 1x1 input with channels [1, 2]; w [out=2][in=2][1][1] = [[1, 2], [3, 4]], bias [0.5, -1].
  const Vec out = run(ref_conv2d, {1, 1, 2}, {1, 1, 2}, {1, 2}, {1, 2, 3, 4}, {0.5f, -1.0f});
  EXPECT_EQ(out, (Vec{5.5f, 10.0f}));  // 1*1 + 2*2 + 0.5, 3*1 + 4*2 - 1
  // 1x2 input, 2 channels, kernel 1x2: w [1][2][1][2] = (c0: 1, 10), (c1: 100, 1000).
  const Vec out2 =
      run(ref_conv2d, {1, 2, 2}, {1, 1, 1}, {1, 2, 3, 4}, {1, 10, 100, 1000}, {}, 1, 2);
  EXPECT_EQ(out2, (Vec{1 * 1 + 3 * 10 + 2 * 100 + 4 * 1000}));  // x[0][w][c] * w[0][c][0][w]
}

TEST(RefOps, DepthwiseConv2D) {
  // 2x2x2 input (NHWC): channel 0 = 1 2 3 4, channel 1 = 10 20 30 40. 2x2 valid.
  // w [2][1][2][2]: c0 all ones, c1 = [1 0; 0 -1]; bias [1, 2].
  const Vec out = run(ref_depthwise_conv2d, {2, 2, 2}, {1, 1, 2}, {1, 10, 2, 20, 3, 30, 4, 40},
                      {1, 1, 1, 1, 1, 0, 0, -1}, {1, 2}, 2, 2);
  EXPECT_EQ(out, (Vec{11, -28}));  // 1+2+3+4+1, 10-40+2
  // Same padding, 3x3 kernel of ones on a 2x2 single channel: every output sums the whole input.
  const Vec out2 = run(ref_depthwise_conv2d, {2, 2, 1}, {2, 2, 1}, {1, 2, 3, 4}, Vec(9, 1.0f), {},
                       3, 3, 1, 1, Padding::kSame);
  EXPECT_EQ(out2, (Vec{10, 10, 10, 10}));
}

TEST(RefOps, BatchNormAndRelu) {
  const Vec bn = run(ref_batch_norm, {1, 2, 2}, {1, 2, 2}, {1, 2, 3, 4}, {2, -1}, {0.5f, 1});
  EXPECT_EQ(bn, (Vec{2.5f, -1, 6.5f, -3}));  // x * scale[c] + shift[c]
  const Vec r = run(ref_relu, {1, 1, 4}, {1, 1, 4}, {-1, 0, 2, -0.5f});
  EXPECT_EQ(r, (Vec{0, 0, 2, 0}));
}

TEST(RefOps, MaxPoolSameIgnoresPadding) {
  // 3x3, 2x2 stride 2 same: out 2x2, pad_total = 1*2 + 2 - 3 = 1 -> all at the bottom/right.
  EXPECT_EQ(run(ref_max_pool2d, {3, 3, 1}, {2, 2, 1}, iota(9), {}, {}, 2, 2, 2, 2, Padding::kSame),
            (Vec{5, 6, 8, 9}));
  // All negative: a padded zero must never win.
  EXPECT_EQ(
      run(ref_max_pool2d, {3, 3, 1}, {2, 2, 1}, iota(9, -9.0f), {}, {}, 2, 2, 2, 2, Padding::kSame),
      (Vec{-5, -4, -2, -1}));  // input -9..-1
}

TEST(RefOps, AvgPoolSameCountsOnlyRealCells) {
  EXPECT_EQ(run(ref_avg_pool2d, {3, 3, 1}, {2, 2, 1}, iota(9), {}, {}, 2, 2, 2, 2, Padding::kSame),
            (Vec{3, 4.5f, 7.5f, 9}));  // mean(1 2 4 5), mean(3 6), mean(7 8), 9
  EXPECT_EQ(run(ref_avg_pool2d, {2, 2, 2}, {1, 1, 2}, {1, 10, 2, 20, 3, 30, 4, 40}, {}, {}, 2, 2),
            (Vec{2.5f, 25}));
}

TEST(RefOps, GlobalAvgPool) {
  EXPECT_EQ(run(ref_global_avg_pool, {2, 1, 2}, {1, 1, 2}, {1, 10, 3, 30}), (Vec{2, 20}));
}

TEST(RefOps, DenseFlattensNhwc) {
  // in [1][2][2] = x[h=0][w][c]: flat (w*2 + c) = [1, 2, 3, 4]. Row 1 picks index 2 = x[0][1][0].
  const Vec out =
      run(ref_dense, {1, 2, 2}, {1, 1, 2}, {1, 2, 3, 4}, {1, 1, 1, 1, 0, 0, 1, 0}, {0.5f, -1});
  EXPECT_EQ(out, (Vec{10.5f, 2}));
}

TEST(RefOps, SoftmaxIsStableAndPerPosition) {
  const Vec p = run(ref_softmax, {1, 1, 3}, {1, 1, 3}, {1, 2, 3});
  const float e1 = std::exp(-2.0f), e2 = std::exp(-1.0f), s = e1 + e2 + 1.0f;
  EXPECT_FLOAT_EQ(p[0], e1 / s);
  EXPECT_FLOAT_EQ(p[1], e2 / s);
  EXPECT_FLOAT_EQ(p[2], 1.0f / s);
  EXPECT_EQ(run(ref_softmax, {1, 1, 2}, {1, 1, 2}, {1000, 1000}), (Vec{0.5f, 0.5f}));
  // Two positions, softmax over channels at each.
  EXPECT_EQ(run(ref_softmax, {1, 2, 2}, {1, 2, 2}, {0, 0, -50, -50}),
            (Vec{0.5f, 0.5f, 0.5f, 0.5f}));
}

}  // namespace
}  // namespace tkws
