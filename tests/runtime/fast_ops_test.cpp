// THE harness for fast kernels (docs/architecture.md, conventions): one function builds a one-op
// model (optionally followed by BatchNorm and ReLU, which prepare() folds and fuses), runs it with
// the reference kernels and with every fast kernel set this CPU runs, and compares. Cases are drawn
// from a grid of shapes, channel counts, kernels, strides and paddings by a seeded generator, so
// tails (channels not a multiple of 8, pixel counts not a multiple of the GEMM tile) are all hit.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "../format/test_models.h"
#include "tinykws/runtime/interpreter.h"

namespace tkws {
namespace {

using testing_models::add_tensor;
using testing_models::Rng;

struct Case {
  OpType type = OpType::kConv2D;
  ActShape in{1, 1, 1};
  int out_c = 1;  // Conv2D filters, Dense units
  int kh = 1, kw = 1, sh = 1, sw = 1;
  Padding pad = Padding::kValid;
  bool bias = true, bn = false, relu = false;

  std::string str() const {
    char b[160];
    std::snprintf(b, sizeof b, "%s in %dx%dx%d out_c %d k %dx%d s %dx%d %s%s%s%s", op_name(type),
                  in.h, in.w, in.c, out_c, kh, kw, sh, sw, pad == Padding::kSame ? "same" : "valid",
                  bias ? " +bias" : "", bn ? " +BN" : "", relu ? " +ReLU" : "");
    return b;
  }
};

// The case as a model; `abs_values` makes every weight non-negative (see tolerance below).
Model case_model(const Case& c, uint64_t seed, bool abs_values) {
  Rng rng(seed);
  Model m;
  Op op;
  op.type = c.type;
  op.kernel_h = c.kh, op.kernel_w = c.kw, op.stride_h = c.sh, op.stride_w = c.sw;
  op.padding = c.pad;
  int ch = c.in.c;  // channels after the op
  switch (c.type) {
    case OpType::kConv2D:
      op.tensors.push_back(add_tensor(m, "w", {c.out_c, c.in.c, c.kh, c.kw}, rng));
      if (c.bias) op.tensors.push_back(add_tensor(m, "b", {c.out_c}, rng));
      ch = c.out_c;
      break;
    case OpType::kDepthwiseConv2D:
      op.tensors.push_back(add_tensor(m, "w", {c.in.c, 1, c.kh, c.kw}, rng));
      if (c.bias) op.tensors.push_back(add_tensor(m, "b", {c.in.c}, rng));
      break;
    case OpType::kDense:
      op.tensors.push_back(add_tensor(m, "w", {c.out_c, static_cast<int32_t>(c.in.size())}, rng));
      if (c.bias) op.tensors.push_back(add_tensor(m, "b", {c.out_c}, rng));
      ch = c.out_c;
      break;
    case OpType::kBatchNorm:
      op.tensors.push_back(add_tensor(m, "scale", {c.in.c}, rng, -2.0f, 2.0f));
      op.tensors.push_back(add_tensor(m, "shift", {c.in.c}, rng));
      break;
    default:
      break;
  }
  m.ops.push_back(op);
  if (c.bn) {
    Op bn;
    bn.type = OpType::kBatchNorm;
    bn.tensors = {add_tensor(m, "bn.scale", {ch}, rng, -2.0f, 2.0f),
                  add_tensor(m, "bn.shift", {ch}, rng)};
    m.ops.push_back(bn);
  }
  if (c.relu) m.ops.push_back(testing_models::simple_op(OpType::kRelu));
  if (abs_values)
    for (Tensor& t : m.tensors)
      for (float& v : t.f32) v = std::fabs(v);
  return m;
}

// Terms summed per output value (for the error bound).
int terms(const Case& c) {
  switch (c.type) {
    case OpType::kConv2D:
      return c.kh * c.kw * c.in.c;
    case OpType::kDepthwiseConv2D:
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D:
      return c.kh * c.kw;
    case OpType::kDense:
      return static_cast<int>(c.in.size());
    case OpType::kGlobalAvgPool:
      return c.in.h * c.in.w;
    default:
      return 1;
  }
}

std::vector<float> run(const Model& m, const Case& c, KernelSet ks, int fast_set,
                       const std::vector<float>& input, std::string* plan,
                       bool pad_scratch = true) {
  Interpreter it;
  InterpreterOptions opt;
  opt.kernels = ks;
  opt.fast_set = fast_set;
  opt.pad_scratch = pad_scratch;
  opt.input = c.in;
  const Status st = it.prepare(m, opt);
  EXPECT_TRUE(st.ok()) << c.str() << ": " << st.message;
  if (!st.ok()) return {};
  if (plan) {
    *plan = std::string(it.kernel_set_name()) + (pad_scratch ? "" : " (clipped)");
    for (int i = 0; i < it.num_steps(); ++i) *plan += std::string(" | ") + it.step_name(i);
  }
  std::vector<float> arena(it.arena_bytes() / 4 + 1), out(it.output_size());
  const Status r = it.invoke(input.data(), out.data(), arena.data(), it.arena_bytes());
  EXPECT_TRUE(r.ok()) << r.message;
  return out;
}

// Runs one case on every kernel set; returns the fast plans' step names (for coverage).
std::vector<std::string> check_case(const Case& c, uint64_t seed) {
  const Model m = case_model(c, seed, false);
  const Model m_abs = case_model(c, seed, true);
  Rng rng(seed ^ 0xABCDEF);
  std::vector<float> x(c.in.size()), x_abs(c.in.size());
  for (size_t i = 0; i < x.size(); ++i) x_abs[i] = std::fabs(x[i] = rng.uniform(-1.0f, 1.0f));

  const std::vector<float> ref = run(m, c, KernelSet::kReference, 0, x, nullptr);
  // Error bound: reference and fast paths both sum the same K products (plus bias and the
  // BatchNorm multiply-add), in different orders, with FMAs, and with BatchNorm folded into the
  // weights (one more rounding per product). Each result is then within (K + 3) * eps of
  // sum |terms|, and sum |terms| is exactly what the reference computes on |x| and |w|
  // (m_abs); twice that covers the two computations. (A wrong index or padding shows up as an
  // error of the size of a whole term, far above this.)
  const std::vector<float> mag = run(m_abs, c, KernelSet::kReference, 0, x_abs, nullptr);
  const float k_eps = 2.0f * static_cast<float>(terms(c) + 3) * FLT_EPSILON;
  int sets = 0;
  const FastKernels* const* all = fast_kernel_sets(&sets);
  std::vector<std::string> plans;
  for (int s = 0; s < 2 * sets; ++s) {
    std::string plan;
    const std::vector<float> fast = run(m, c, KernelSet::kFast, s / 2, x, &plan, s % 2 == 0);
    plans.push_back(plan);
    if (fast.size() != ref.size()) {
      ADD_FAILURE() << c.str() << " [" << all[s / 2]->isa << "]: size " << fast.size() << " vs "
                    << ref.size();
      continue;
    }
    for (size_t i = 0; i < ref.size(); ++i) {
      const float tol = k_eps * mag[i] + 1e-30f;
      if (!(std::fabs(fast[i] - ref[i]) <= tol)) {
        ADD_FAILURE() << c.str() << " [" << plan << "] element " << i << ": fast " << fast[i]
                      << ", reference " << ref[i] << ", tolerance " << tol;
        break;
      }
    }
  }
  return plans;
}

template <class T>
T pick(Rng& rng, std::initializer_list<T> v) {
  return v.begin()[rng.below(static_cast<int>(v.size()))];
}

// Random case of `type` from the grid (fixed seed, so the same cases every run).
Case random_case(OpType type, Rng& rng, bool pointwise = false) {
  Case c;
  c.type = type;
  const int hw = rng.below(6);
  const ActShape sizes[] = {{1, 1, 0}, {5, 3, 0}, {7, 10, 0}, {49, 10, 0}, {8, 8, 0}, {25, 5, 0}};
  c.in = sizes[hw];
  c.in.c = pick(rng, {1, 2, 3, 8, 16, 17, 32, 33, 40, 64});
  c.out_c = pick(rng, {1, 2, 5, 8, 12, 16, 24, 31, 32, 40, 64});
  const int k = rng.below(5);
  const int kernels[][2] = {{1, 1}, {3, 3}, {3, 1}, {5, 4}, {2, 2}};
  c.kh = kernels[k][0], c.kw = kernels[k][1];
  c.sh = pick(rng, {1, 1, 2, 3});
  c.sw = pick(rng, {1, 1, 2});
  c.pad = rng.below(2) ? Padding::kSame : Padding::kValid;
  c.bias = rng.below(3) != 0;
  c.bn = rng.below(2) != 0;
  c.relu = rng.below(2) != 0;
  if (pointwise) c.kh = c.kw = c.sh = c.sw = 1;
  if (c.kh > c.in.h || c.kw > c.in.w) c.pad = Padding::kSame;  // valid would have no output
  switch (type) {
    case OpType::kDense:
      c.in.c = pick(rng, {1, 3, 7, 8, 15, 16, 17, 32, 100});
      c.out_c = pick(rng, {1, 2, 3, 12, 33});
      if (rng.below(2)) c.in.h = c.in.w = 1;  // after GlobalAvgPool
      break;
    case OpType::kBatchNorm:
    case OpType::kRelu:
    case OpType::kGlobalAvgPool:
    case OpType::kSoftmax:
      c.bn = c.bn && type == OpType::kGlobalAvgPool;
      break;
    default:
      break;
  }
  return c;
}

class FastVsReference : public ::testing::TestWithParam<OpType> {};

TEST_P(FastVsReference, RandomCases) {
  Rng rng(1000 + static_cast<uint64_t>(GetParam()));
  std::map<std::string, int> kernels_used;
  for (int i = 0; i < 150; ++i) {
    const Case c = random_case(GetParam(), rng);
    for (const std::string& plan : check_case(c, 77 + i))
      ++kernels_used[plan.substr(plan.find('|') + 2)];
  }
  for (const auto& [name, n] : kernels_used) std::printf("  %4d x %s\n", n, name.c_str());
}

INSTANTIATE_TEST_SUITE_P(Ops, FastVsReference,
                         ::testing::Values(OpType::kConv2D, OpType::kDepthwiseConv2D,
                                           OpType::kDense, OpType::kBatchNorm, OpType::kRelu,
                                           OpType::kMaxPool2D, OpType::kAvgPool2D,
                                           OpType::kGlobalAvgPool, OpType::kSoftmax),
                         [](const auto& info) { return std::string(op_name(info.param)); });

// 1x1 stride-1 convs take the GEMM kernel: its own draw, so every tile/tail combination shows.
TEST(FastVsReferencePointwise, RandomCases) {
  Rng rng(4242);
  int used = 0;
  for (int i = 0; i < 150; ++i) {
    const Case c = random_case(OpType::kConv2D, rng, true);
    for (const std::string& plan : check_case(c, 500 + i))
      used += plan.find("Conv2D 1x1") != std::string::npos;
  }
  EXPECT_GT(used, 150);
}

// The hot shapes of the DS-CNN, explicitly (random draws might miss one).
TEST(FastVsReferenceHot, DsCnnLayers) {
  Case first{OpType::kConv2D, {49, 10, 1}, 32, 3, 3, 2, 2, Padding::kSame, false, true, true};
  Case dw{OpType::kDepthwiseConv2D, {25, 5, 32}, 32, 3, 3, 1, 1, Padding::kSame, false, true, true};
  Case pw{OpType::kConv2D, {25, 5, 32}, 32, 1, 1, 1, 1, Padding::kSame, false, true, true};
  Case fc{OpType::kDense, {1, 1, 32}, 2, 1, 1, 1, 1, Padding::kValid, true, false, false};
  EXPECT_NE(check_case(first, 1)[0].find("Conv2D+BatchNorm+Relu"), std::string::npos);
  EXPECT_NE(check_case(dw, 2)[0].find("DepthwiseConv2D+BatchNorm+Relu"), std::string::npos);
  EXPECT_NE(check_case(pw, 3)[0].find("Conv2D 1x1+BatchNorm+Relu"), std::string::npos);
  check_case(fc, 4);
}

// The 3x3 kernels with weights held in registers (one input channel; depthwise) over sizes,
// strides, paddings and channel tails.
TEST(FastVsReferenceHot, ThreeByThreeSpecialisations) {
  uint64_t seed = 10;
  for (const ActShape in : {ActShape{49, 10, 1}, ActShape{7, 5, 1}, ActShape{3, 3, 1},
                            ActShape{1, 4, 1}, ActShape{9, 2, 1}})
    for (int s : {1, 2, 3})
      for (Padding p : {Padding::kSame, Padding::kValid}) {
        if (p == Padding::kValid && (in.h < 3 || in.w < 3)) continue;
        for (int ch : {1, 5, 8, 13, 32, 40}) {
          Case conv{OpType::kConv2D, in, ch, 3, 3, s, s, p, true, ch % 2 == 0, true};
          check_case(conv, ++seed);
          Case dw{OpType::kDepthwiseConv2D,
                  {in.h, in.w, ch},
                  ch,
                  3,
                  3,
                  s,
                  1,
                  p,
                  true,
                  false,
                  ch % 3 == 0};
          check_case(dw, ++seed);
        }
      }
}

// One-input-channel kernels of other shapes (the default preset's first layer is 5x3, stride 2,
// on 49x40 log-Mel features): the register-held variants against the reference.
TEST(FastVsReferenceHot, OneChannelKernelShapes) {
  uint64_t seed = 500;
  for (const auto [kh, kw] : {std::pair{5, 3}, std::pair{3, 5}, std::pair{5, 5}})
    for (const ActShape in :
         {ActShape{49, 40, 1}, ActShape{7, 5, 1}, ActShape{5, 3, 1}, ActShape{2, 6, 1}})
      for (int s : {1, 2})
        for (Padding p : {Padding::kSame, Padding::kValid}) {
          if (p == Padding::kValid && (in.h < kh || in.w < kw)) continue;
          for (int ch : {1, 8, 13, 32, 40}) {
            Case conv{OpType::kConv2D, in, ch, kh, kw, s, s, p, ch % 3 == 0, ch % 2 == 0, true};
            check_case(conv, ++seed);
          }
        }
}

TEST(FastKernelSets, GenericAlwaysPresent) {
  int n = 0;
  const FastKernels* const* sets = fast_kernel_sets(&n);
  ASSERT_GE(n, 1);
  // generic, then (on a SIMD build) the no-SIMD forms a Cortex-M's generic set has, last:
  // never the default, there to be tested here.
  const bool scalar = std::string(sets[n - 1]->isa) == "scalar";
  EXPECT_STREQ(sets[n - 1 - (scalar ? 1 : 0)]->isa, "generic");
#if defined(__SSE2__) || defined(__ARM_NEON)
  EXPECT_TRUE(scalar);
#endif
  EXPECT_STRNE(sets[0]->isa, "scalar");
  for (int i = 0; i < n; ++i) std::printf("fast kernel set %d: %s\n", i, sets[i]->isa);
}

}  // namespace
}  // namespace tkws
