// int8 kernels (runtime/ops_int8.h):
//  - one shared harness runs every fast kernel against its reference kernel on random shapes,
//    strides, paddings, zero points, multipliers and activations: outputs must be identical;
//  - reference kernels against the float reference kernels (runtime/ops.h) on dequantised
//    values, with the tolerance each one's rounding allows;
//  - softmax: hand-computed outputs and the float softmax.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "../format/test_models.h"
#include "tinykws/runtime/ops.h"
#include "tinykws/runtime/ops_int8.h"

namespace tkws {
namespace {

using testing_models::Rng;

std::vector<int8_t> random_i8(size_t n, Rng& rng, int lo = -128, int hi = 127) {
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(lo + rng.below(hi - lo + 1));
  return v;
}

// A random windowed-op geometry; valid padding only where the kernel fits.
struct Geometry {
  Op op;
  ActShape in, out;
  Window win;
};
Geometry random_geometry(OpType type, Rng& rng, int max_hw, int max_c, int max_k, int max_s) {
  for (;;) {
    Geometry g;
    g.in = {1 + rng.below(max_hw), 1 + rng.below(max_hw), 1 + rng.below(max_c)};
    g.op.type = type;
    g.op.kernel_h = 1 + rng.below(max_k);
    g.op.kernel_w = 1 + rng.below(max_k);
    g.op.stride_h = 1 + rng.below(max_s);
    g.op.stride_w = 1 + rng.below(max_s);
    g.op.padding = rng.below(2) ? Padding::kSame : Padding::kValid;
    g.win = op_window(g.op, g.in);
    if (g.win.out_h < 1 || g.win.out_w < 1) continue;
    g.out = {g.win.out_h, g.win.out_w, g.in.c};
    return g;
  }
}

// Everything a weighted int8 op needs, random: weights in [-127, 127], bias, per-channel
// multipliers sized so outputs spread over the int8 range (not all saturated), zero points,
// and a fused ReLU half of the time.
struct WeightedCase {
  OpType type;
  Int8Args a;
  std::vector<int8_t> w, in;
  std::vector<int32_t> bias, mult, shift;
  std::string what;
};

WeightedCase random_weighted(OpType type, Rng& rng, bool pointwise = false) {
  WeightedCase c;
  c.type = type;
  Int8Args& a = c.a;
  size_t k = 0;  // products per output
  if (type == OpType::kDense) {
    a.in = {1 + rng.below(4), 1 + rng.below(4), 1 + rng.below(40)};
    a.out = {1, 1, 1 + rng.below(70)};
    k = a.in.size();
    c.w = random_i8(static_cast<size_t>(a.out.c) * k, rng, -127, 127);
  } else {
    Geometry g = random_geometry(type, rng, 12, type == OpType::kConv2D ? 20 : 70, 5, 3);
    if (pointwise) {
      g.op.kernel_h = g.op.kernel_w = g.op.stride_h = g.op.stride_w = 1;
      g.win = op_window(g.op, g.in);
      g.out = {g.win.out_h, g.win.out_w, g.in.c};
    }
    a.in = g.in;
    a.win = g.win;
    a.out = g.out;
    const size_t taps = static_cast<size_t>(g.win.kh) * g.win.kw;
    if (type == OpType::kConv2D) {
      a.out.c = 1 + rng.below(70);
      k = taps * a.in.c;
    } else {
      k = taps;
    }
    c.w = random_i8(static_cast<size_t>(a.out.c) * k, rng, -127, 127);
  }
  c.in = random_i8(a.in.size(), rng);
  const auto oc = static_cast<size_t>(a.out.c);
  const double acc_scale = std::sqrt(static_cast<double>(k)) * 73.0 * 74.0;  // ~ std of acc
  for (size_t o = 0; o < oc; ++o) {
    c.bias.push_back(static_cast<int32_t>(rng.uniform(-1.0f, 1.0f) * acc_scale));
    // One channel in 16 gets M >= 1 (the left-shift path; its outputs mostly saturate).
    const float m = rng.below(16) == 0 ? rng.uniform(1.0f, 300.0f)
                                       : rng.uniform(20.0f, 120.0f) / static_cast<float>(acc_scale);
    const QuantizedMultiplier q = quantize_multiplier(m);
    c.mult.push_back(q.m0);
    c.shift.push_back(q.shift);
  }
  a.in_zp = -128 + rng.below(256);
  a.out_zp = -128 + rng.below(256);
  int8_activation_range(rng.below(2) ? FusedActivation::kRelu : FusedActivation::kNone, a.out_zp,
                        &a.act_min, &a.act_max);
  a.w = c.w.data();
  a.bias = c.bias.data();
  a.mult = c.mult.data();
  a.shift = c.shift.data();
  c.what = std::string(op_name(type)) + " in " + std::to_string(a.in.h) + "x" +
           std::to_string(a.in.w) + "x" + std::to_string(a.in.c) + " out " +
           std::to_string(a.out.h) + "x" + std::to_string(a.out.w) + "x" + std::to_string(a.out.c) +
           " k " + std::to_string(a.win.kh) + "x" + std::to_string(a.win.kw) + " s " +
           std::to_string(a.win.sh) + "x" + std::to_string(a.win.sw) + " pad " +
           std::to_string(a.win.pad_top) + "," + std::to_string(a.win.pad_left) + " zp " +
           std::to_string(a.in_zp) + "/" + std::to_string(a.out_zp) + " act " +
           std::to_string(a.act_min);
  return c;
}

// The shared harness: reference kernel on model-layout weights vs fast kernel on packed
// weights, byte for byte. Returns the number of distinct output values (to check that the
// case exercised more than saturation).
// Every fast kernel set this build has and this CPU runs is checked.
size_t expect_fast_matches_reference(const WeightedCase& c, Int8FastKind want_kind) {
  std::vector<int8_t> ref(c.a.out.size(), 0);
  int8_ref_kernel(c.type)(c.a, c.in.data(), ref.data());

  Int8Args f = c.a;
  Int8FastKind kind{};
  EXPECT_TRUE(int8_fast_kind(c.type, f, &kind));
  EXPECT_EQ(static_cast<int>(kind), static_cast<int>(want_kind)) << c.what;
  int sets = 0;
  const Int8FastKernels* const* fk = int8_fast_kernel_sets(&sets);
  for (int k = 0; k < sets; ++k) {  // each set with its own packing
    const Int8FastLayout l = int8_fast_layout(kind, fk[k]->packing, f);
    EXPECT_EQ(l.ldw % 8, 0);
    EXPECT_EQ(l.weight_bytes, fk[k]->packing == Int8Packing::kRows8 || kind == Int8FastKind::kDense
                                  ? sizeof(int8_t)
                                  : sizeof(int16_t))
        << fk[k]->isa;
    // int16 storage holds either width; junk: pack must overwrite padding too.
    std::vector<int16_t> wp((l.weight_count * l.weight_bytes + 1) / 2, 0x5555);
    std::vector<int32_t> bp(l.bias_count, 0x5555);
    int8_fast_pack(kind, fk[k]->packing, f, c.w.data(), c.bias.data(), wp.data(), bp.data());
    f.w = nullptr;
    f.wp = l.weight_bytes == 2 ? wp.data() : nullptr;
    f.wp8 = l.weight_bytes == 1 ? reinterpret_cast<const int8_t*>(wp.data()) : nullptr;
    f.bias = bp.data();
    f.ldw = l.ldw;
    std::vector<int8_t> fast(c.a.out.size(), 0);
    fk[k]->get(kind)(f, c.in.data(), fast.data());
    for (size_t i = 0; i < ref.size(); ++i) {
      EXPECT_EQ(int{fast[i]}, int{ref[i]}) << fk[k]->isa << " " << c.what << " at " << i;
      if (fast[i] != ref[i]) break;
    }
  }
  return std::set<int8_t>(ref.begin(), ref.end()).size();
}

TEST(Int8FastKernels, MatchReferenceBitExact) {
  struct Kind {
    OpType type;
    bool pointwise;
    Int8FastKind kind;
    int cases;
  };
  const Kind kinds[] = {
      {OpType::kConv2D, false, Int8FastKind::kConv2D, 300},
      {OpType::kConv2D, true, Int8FastKind::kPointwise, 300},
      {OpType::kDepthwiseConv2D, false, Int8FastKind::kDepthwise, 300},
      {OpType::kDense, false, Int8FastKind::kDense, 300},
  };
  Rng rng(2024);
  for (const Kind& k : kinds) {
    size_t varied = 0;
    for (int i = 0; i < k.cases; ++i) {
      WeightedCase c = random_weighted(k.type, rng, k.pointwise);
      if (k.type == OpType::kConv2D && !k.pointwise && c.a.win.kh == 1 && c.a.win.kw == 1 &&
          c.a.win.sh == 1 && c.a.win.sw == 1)
        continue;  // that one is pointwise, tested in its own row
      const size_t distinct = expect_fast_matches_reference(c, k.kind);
      varied += distinct > 8 || c.a.out.size() < 16;
      if (HasFailure()) return;
    }
    // Most cases must produce varied outputs, not a saturated constant.
    EXPECT_GT(varied, static_cast<size_t>(k.cases) * 8 / 10) << op_name(k.type);
  }
}

TEST(Int8FastKernels, DsCnnShapes) {
  // The shapes of the benchmark DS-CNN on 49x10 features, with extreme values.
  Rng rng(7);
  struct Shape {
    OpType type;
    ActShape in;
    int k, s, out_c;
    Int8FastKind kind;
  };
  const Shape shapes[] = {
      {OpType::kConv2D, {49, 10, 1}, 3, 2, 32, Int8FastKind::kConv2D},
      {OpType::kDepthwiseConv2D, {25, 5, 32}, 3, 1, 32, Int8FastKind::kDepthwise},
      {OpType::kConv2D, {25, 5, 32}, 1, 1, 32, Int8FastKind::kPointwise},
      {OpType::kConv2D, {25, 5, 64}, 1, 1, 64, Int8FastKind::kPointwise},
      {OpType::kDense, {1, 1, 64}, 1, 1, 12, Int8FastKind::kDense},
  };
  for (const Shape& s : shapes)
    for (int extreme = 0; extreme < 2; ++extreme) {
      WeightedCase c = random_weighted(s.type, rng);
      Op op;
      op.type = s.type;
      op.kernel_h = op.kernel_w = s.k;
      op.stride_h = op.stride_w = s.s;
      op.padding = Padding::kSame;
      c.a.in = s.in;
      c.a.win = op_window(op, s.in);
      c.a.out = s.type == OpType::kDense ? ActShape{1, 1, s.out_c}
                                         : ActShape{c.a.win.out_h, c.a.win.out_w, s.out_c};
      const size_t k = s.type == OpType::kDense             ? s.in.size()
                       : s.type == OpType::kDepthwiseConv2D ? size_t(s.k * s.k)
                                                            : size_t(s.k * s.k) * s.in.c;
      c.w =
          extreme ? std::vector<int8_t>(s.out_c * k, -127) : random_i8(s.out_c * k, rng, -127, 127);
      c.in = extreme ? std::vector<int8_t>(s.in.size(), -128) : random_i8(s.in.size(), rng);
      if (extreme) c.a.in_zp = 127;  // x - zp = -255 everywhere: the largest products
      c.bias.resize(s.out_c, 0);
      c.mult.resize(s.out_c, c.mult[0]);
      c.shift.resize(s.out_c, c.shift[0]);
      c.a.w = c.w.data();
      c.a.bias = c.bias.data();
      c.a.mult = c.mult.data();
      c.a.shift = c.shift.data();
      c.what = std::string(op_name(s.type)) + " DS-CNN shape" + (extreme ? " extreme" : "");
      expect_fast_matches_reference(c, s.kind);
    }
}

TEST(Int8FastKernels, SpecialisedPathsMatchReference) {
  // Shapes that reach every path of the fast kernels: the default model's 5x3 stride-2
  // one-channel first conv, 3x3 depthwise and 32-channel pointwise; channel tails (blocks of
  // 32, 16, 8 and fewer), odd product and tap counts (pad entries), padding, strides; a
  // depthwise with more channels than the zero-point row and one with more taps than the tap
  // table; convolutions whose columns need several chunks. Each with and without multipliers
  // >= 1 (without: the vectorised requantisation), random and extreme values.
  Rng rng(11);
  struct Shape {
    OpType type;
    ActShape in;
    int kh, kw, sh, sw;
    Padding pad;
    int out_c;
    Int8FastKind kind;
  };
  const Shape shapes[] = {
      {OpType::kConv2D, {49, 40, 1}, 5, 3, 2, 2, Padding::kSame, 32, Int8FastKind::kConv2D},
      {OpType::kConv2D, {49, 40, 1}, 5, 3, 2, 2, Padding::kValid, 32, Int8FastKind::kConv2D},
      {OpType::kConv2D, {13, 11, 1}, 5, 3, 1, 2, Padding::kSame, 20, Int8FastKind::kConv2D},
      {OpType::kConv2D, {9, 8, 3}, 3, 3, 2, 1, Padding::kSame, 41, Int8FastKind::kConv2D},
      {OpType::kConv2D, {5, 6, 301}, 3, 3, 1, 1, Padding::kSame, 12, Int8FastKind::kConv2D},
      {OpType::kDepthwiseConv2D,
       {25, 20, 32},
       3,
       3,
       1,
       1,
       Padding::kSame,
       32,
       Int8FastKind::kDepthwise},
      {OpType::kDepthwiseConv2D,
       {25, 20, 56},
       3,
       3,
       1,
       1,
       Padding::kSame,
       56,
       Int8FastKind::kDepthwise},
      {OpType::kDepthwiseConv2D,
       {9, 7, 21},
       3,
       3,
       2,
       2,
       Padding::kSame,
       21,
       Int8FastKind::kDepthwise},
      {OpType::kDepthwiseConv2D,
       {10, 8, 24},
       2,
       2,
       1,
       1,
       Padding::kValid,
       24,
       Int8FastKind::kDepthwise},
      {OpType::kDepthwiseConv2D,
       {6, 5, 300},
       3,
       3,
       1,
       1,
       Padding::kSame,
       300,
       Int8FastKind::kDepthwise},
      {OpType::kDepthwiseConv2D,
       {12, 11, 10},
       9,
       8,
       1,
       1,
       Padding::kSame,
       10,
       Int8FastKind::kDepthwise},
      {OpType::kConv2D, {25, 20, 32}, 1, 1, 1, 1, Padding::kSame, 32, Int8FastKind::kPointwise},
      {OpType::kConv2D, {7, 5, 33}, 1, 1, 1, 1, Padding::kSame, 47, Int8FastKind::kPointwise},
      {OpType::kConv2D, {3, 3, 1}, 1, 1, 1, 1, Padding::kSame, 9, Int8FastKind::kPointwise},
      {OpType::kConv2D, {3, 1, 2500}, 1, 1, 1, 1, Padding::kSame, 9, Int8FastKind::kPointwise},
  };
  for (const Shape& s : shapes)
    for (int variant = 0; variant < 4; ++variant) {
      const bool extreme = variant == 3, with_left = variant == 1;
      WeightedCase c = random_weighted(s.type, rng);
      Op op;
      op.type = s.type;
      op.kernel_h = s.kh;
      op.kernel_w = s.kw;
      op.stride_h = s.sh;
      op.stride_w = s.sw;
      op.padding = s.pad;
      c.a.in = s.in;
      c.a.win = op_window(op, s.in);
      c.a.out = {c.a.win.out_h, c.a.win.out_w, s.out_c};
      const size_t taps = static_cast<size_t>(s.kh) * s.kw;
      const size_t k = s.type == OpType::kDepthwiseConv2D ? taps : taps * s.in.c;
      const size_t oc = static_cast<size_t>(s.out_c);
      c.w = extreme ? std::vector<int8_t>(oc * k, -127) : random_i8(oc * k, rng, -127, 127);
      c.in = extreme ? std::vector<int8_t>(s.in.size(), -128) : random_i8(s.in.size(), rng);
      if (extreme) c.a.in_zp = 127;  // x - zp = -255 everywhere: the largest products
      const double acc_scale = std::sqrt(static_cast<double>(k)) * 73.0 * 74.0;
      c.bias.clear();
      c.mult.clear();
      c.shift.clear();
      for (size_t o = 0; o < oc; ++o) {
        c.bias.push_back(static_cast<int32_t>(rng.uniform(-1.0f, 1.0f) * acc_scale));
        const float m = with_left && o % 7 == 3
                            ? rng.uniform(1.0f, 300.0f)
                            : rng.uniform(20.0f, 120.0f) / static_cast<float>(acc_scale);
        const QuantizedMultiplier q = quantize_multiplier(m);
        c.mult.push_back(q.m0);
        c.shift.push_back(q.shift);
      }
      c.a.w = c.w.data();
      c.a.bias = c.bias.data();
      c.a.mult = c.mult.data();
      c.a.shift = c.shift.data();
      c.what = std::string(op_name(s.type)) + " in " + std::to_string(s.in.h) + "x" +
               std::to_string(s.in.w) + "x" + std::to_string(s.in.c) + " k " +
               std::to_string(s.kh) + "x" + std::to_string(s.kw) + " out_c " +
               std::to_string(s.out_c) + " variant " + std::to_string(variant);
      const size_t distinct = expect_fast_matches_reference(c, s.kind);
      if (variant == 0) {
        EXPECT_GT(distinct, size_t{8}) << c.what;
      }
      if (HasFailure()) return;
    }
}

TEST(Int8FastKernels, RequantisationEdgeValuesMatchReference) {
  // The vectorised requantisation (constants made at pack time) on its edges: accumulators at
  // and near the int32 limits (a bias near +-2^31 plus or minus the largest products), m0 at
  // 2^30, 2^30 + 1, 2^31 - 2, 2^31 - 1 and random, every right shift 0..31 (with and without
  // an M >= 1 channel, which sends the op to the scalar form), channel counts with tails of
  // every block size, pointwise and depthwise.
  Rng rng(23);
  const int32_t m0s[] = {int32_t{1} << 30, (int32_t{1} << 30) + 1, INT32_MAX - 1, INT32_MAX};
  const int32_t biases[] = {INT32_MAX - 40000, INT32_MIN + 40000, 0, 1 << 30, -(1 << 30)};
  for (int oc : {1, 7, 8, 9, 16, 23, 32, 37, 61})
    for (OpType type : {OpType::kConv2D, OpType::kDepthwiseConv2D})
      for (int variant = 0; variant < 3; ++variant) {
        const bool dw = type == OpType::kDepthwiseConv2D;
        WeightedCase c = random_weighted(type, rng, /*pointwise=*/!dw);
        Op op;
        op.type = type;
        op.kernel_h = op.kernel_w = dw ? 3 : 1;
        op.stride_h = op.stride_w = 1;
        op.padding = Padding::kSame;
        c.a.in = {4, 3, dw ? oc : 1 + rng.below(5)};
        c.a.win = op_window(op, c.a.in);
        c.a.out = {c.a.win.out_h, c.a.win.out_w, oc};
        const size_t k = dw ? 9 : static_cast<size_t>(c.a.in.c);
        c.w = random_i8(static_cast<size_t>(oc) * k, rng, -127, 127);
        c.in = random_i8(c.a.in.size(), rng);
        c.bias.clear();
        c.mult.clear();
        c.shift.clear();
        for (int o = 0; o < oc; ++o) {
          const int i = o + variant * 7;
          c.bias.push_back(variant == 2 ? static_cast<int32_t>(static_cast<uint32_t>(rng.next()))
                                        : biases[i % 5]);
          c.mult.push_back(i % 6 < 4 ? m0s[i % 6]
                                     : (1 << 30) + static_cast<int32_t>(rng.next() % (1u << 30)));
          c.shift.push_back(variant == 1 && o == oc / 2 ? 1 + i % 31 : -(i % 32));
        }
        c.a.w = c.w.data();
        c.a.bias = c.bias.data();
        c.a.mult = c.mult.data();
        c.a.shift = c.shift.data();
        c.what = std::string(op_name(type)) + " out_c " + std::to_string(oc) + " variant " +
                 std::to_string(variant);
        expect_fast_matches_reference(c, dw ? Int8FastKind::kDepthwise : Int8FastKind::kPointwise);
        if (HasFailure()) return;
      }
}

TEST(Int8FastKernels, QuantizeMatchesReferenceBitExact) {
  // Every set's input quantisation against int8_quantize: ties (k + 1/2) * scale in both signs
  // (round half away from zero), values next to them, +-0, denormals, large values, +-2^23 and
  // 2^24 neighbours, infinities, NaN; random values; every length up to 70 (vector tails).
  Rng rng(29);
  std::vector<float> x;
  for (int k = -300; k <= 300; ++k) {
    const float t = static_cast<float>(k) + 0.5f;
    for (float v : {t, std::nextafter(t, 0.0f), std::nextafter(t, 2.0f * t), static_cast<float>(k)})
      x.push_back(v);
  }
  for (float v : {0.0f,         -0.0f,        1e-45f,      -1e-45f,    1e-38f,      0.49999997f,
                  -0.49999997f, 8388607.5f,   -8388607.5f, 8388608.0f, 16777215.0f, 16777216.0f,
                  16777218.0f,  -16777218.0f, 1e9f,        -1e9f,      3.4e38f,     -3.4e38f,
                  INFINITY,     -INFINITY,    NAN,         -NAN})
    x.push_back(v);
  for (int i = 0; i < 2000; ++i) x.push_back(rng.uniform(-200.0f, 200.0f));
  int sets = 0;
  const Int8FastKernels* const* fk = int8_fast_kernel_sets(&sets);
  for (float scale : {1.0f, 0.25f, 0.1f, 0.0371f, 3.0f})
    for (int32_t zp : {-128, -3, 0, 17, 127}) {
      std::vector<int8_t> ref(x.size()), got(x.size());
      int8_quantize(x.data(), x.size(), scale, zp, ref.data());
      for (int k = 0; k < sets; ++k) {
        std::fill(got.begin(), got.end(), int8_t{0});
        fk[k]->quantize(x.data(), x.size(), scale, zp, got.data());
        for (size_t i = 0; i < x.size(); ++i)
          ASSERT_EQ(int{got[i]}, int{ref[i]})
              << fk[k]->isa << " x " << x[i] << " scale " << scale << " zp " << zp;
        for (size_t n = 0; n <= 70; ++n) {  // lengths: tails, nothing written past n
          std::vector<int8_t> part(n + 8, 99);
          fk[k]->quantize(x.data() + 3, n, scale, zp, part.data());
          for (size_t i = 0; i < n; ++i) ASSERT_EQ(int{part[i]}, int{ref[i + 3]}) << n;
          for (size_t i = n; i < n + 8; ++i) ASSERT_EQ(int{part[i]}, 99) << n;
        }
      }
    }
}

TEST(Int8FastKernels, GlobalAvgPoolMatchesReferenceBitExact) {
  Rng rng(17);
  int sets = 0;
  const Int8FastKernels* const* fk = int8_fast_kernel_sets(&sets);
  for (int iter = 0; iter < 300; ++iter) {
    Int8Args a;
    a.in = {1 + rng.below(30), 1 + rng.below(12), 1 + rng.below(80)};
    a.out = {1, 1, a.in.c};
    a.in_zp = -128 + rng.below(256);
    a.out_zp = -128 + rng.below(256);
    const double pixels = static_cast<double>(a.in.h) * a.in.w;
    const QuantizedMultiplier q = quantize_multiplier(rng.uniform(0.3f, 3.0f) / pixels);
    a.m0 = q.m0;
    a.m_shift = q.shift;
    const std::vector<int8_t> in = random_i8(a.in.size(), rng);
    std::vector<int8_t> ref(a.out.size());
    int8_ref_global_avg_pool(a, in.data(), ref.data());
    for (int k = 0; k < sets; ++k) {
      std::vector<int8_t> fast(a.out.size());
      fk[k]->global_avg_pool(a, in.data(), fast.data());
      ASSERT_EQ(fast, ref) << fk[k]->isa << " GAP " << a.in.h << "x" << a.in.w << "x" << a.in.c;
    }
  }
}

// ---- Reference int8 kernels against the float reference kernels ----------------------------

std::vector<float> dequant(const std::vector<int8_t>& q, float scale, int32_t zp) {
  std::vector<float> x(q.size());
  int8_dequantize(q.data(), q.size(), scale, zp, x.data());
  return x;
}

// round(y / s_out) + zp_out, clamped to the op's range: what an exact int8 kernel would give.
int expected_q(float y, float s_out, const Int8Args& a) {
  const double v = std::round(static_cast<double>(y) / s_out) + a.out_zp;
  return static_cast<int>(std::clamp(v, double(a.act_min), double(a.act_max)));
}

TEST(Int8ReferenceKernels, ConvMatchesFloatConvWithinOneStep) {
  // The int32 accumulator equals the float sum / (s_in * s_w[c]) exactly (integer products of
  // the same values); requantisation rounds twice (high mul, shift) with a multiplier of
  // relative error 2^-31, and the float reference adds ~1e-6 relative rounding: together less
  // than one output step. So |q_int8 - round(y_float / s_out) - zp| <= 1.
  Rng rng(99);
  for (int iter = 0; iter < 200; ++iter) {
    const OpType type = iter % 3 == 0   ? OpType::kDepthwiseConv2D
                        : iter % 3 == 1 ? OpType::kConv2D
                                        : OpType::kDense;
    WeightedCase c = random_weighted(type, rng);
    Int8Args& a = c.a;
    const auto oc = static_cast<size_t>(a.out.c);
    const float s_in = std::exp(rng.uniform(-5.0f, 1.0f));
    std::vector<float> s_w(oc);
    for (float& s : s_w) s = std::exp(rng.uniform(-8.0f, -2.0f));
    // Output scale from the multipliers the case chose: M = s_in * s_w / s_out.
    const float s_out = static_cast<float>(
        s_in * s_w[0] / std::ldexp(static_cast<double>(c.mult[0]), c.shift[0] - 31));
    for (size_t o = 0; o < oc; ++o) {
      const QuantizedMultiplier q = quantize_multiplier(double{s_in} * s_w[o] / s_out);
      c.mult[o] = q.m0;
      c.shift[o] = q.shift;
    }
    std::vector<int8_t> got(a.out.size());
    int8_ref_kernel(type)(a, c.in.data(), got.data());

    const std::vector<float> x = dequant(c.in, s_in, a.in_zp);
    const size_t per = c.w.size() / oc;
    std::vector<float> wf(c.w.size()), bf(oc);
    for (size_t o = 0; o < oc; ++o) {
      for (size_t j = 0; j < per; ++j) wf[o * per + j] = s_w[o] * c.w[o * per + j];
      bf[o] = static_cast<float>(double{s_in} * s_w[o] * c.bias[o]);
    }
    KernelArgs fa;
    fa.in = a.in;
    fa.out = a.out;
    fa.win = a.win;
    fa.w = wf.data();
    fa.b = bf.data();
    std::vector<float> y(a.out.size());
    op_info(type)->reference(fa, x.data(), y.data(), nullptr);
    for (size_t i = 0; i < y.size(); ++i) {
      const int want = expected_q(y[i], s_out, a);
      ASSERT_LE(std::abs(int{got[i]} - want), 1) << c.what << " at " << i << ": float " << y[i];
    }
  }
}

TEST(Int8ReferenceKernels, PoolsMatchFloat) {
  Rng rng(31);
  for (int iter = 0; iter < 200; ++iter) {
    const bool max_pool = iter % 2 == 0;
    const Geometry g =
        random_geometry(max_pool ? OpType::kMaxPool2D : OpType::kAvgPool2D, rng, 10, 12, 4, 3);
    Int8Args a;
    a.in = g.in;
    a.out = g.out;
    a.win = g.win;
    a.in_zp = a.out_zp = -128 + rng.below(256);
    const float s = std::exp(rng.uniform(-5.0f, 1.0f));
    const std::vector<int8_t> in = random_i8(a.in.size(), rng);
    std::vector<int8_t> got(a.out.size());
    int8_ref_kernel(g.op.type)(a, in.data(), got.data());
    KernelArgs fa;
    fa.in = a.in;
    fa.out = a.out;
    fa.win = a.win;
    const std::vector<float> x = dequant(in, s, a.in_zp);
    std::vector<float> y(a.out.size());
    op_info(g.op.type)->reference(fa, x.data(), y.data(), nullptr);
    for (size_t i = 0; i < y.size(); ++i) {
      // Max commutes with the (monotonic) quantisation: exact. Average: the integer mean of
      // raw values rounded once; the float mean of dequantised values differs by float
      // rounding only, which can flip a tie: within one step.
      const int want = expected_q(y[i], s, a);
      ASSERT_LE(std::abs(int{got[i]} - want), max_pool ? 0 : 1)
          << op_name(g.op.type) << " at " << i;
    }
  }
}

TEST(Int8ReferenceKernels, GlobalAvgPoolMatchesFloat) {
  Rng rng(32);
  for (int iter = 0; iter < 200; ++iter) {
    Int8Args a;
    a.in = {1 + rng.below(30), 1 + rng.below(12), 1 + rng.below(40)};
    a.out = {1, 1, a.in.c};
    a.in_zp = -128 + rng.below(256);
    a.out_zp = -128 + rng.below(256);
    const float s_in = std::exp(rng.uniform(-5.0f, 1.0f));
    const float s_out = s_in * rng.uniform(0.2f, 1.5f);
    const auto pixels = static_cast<double>(a.in.h) * a.in.w;
    const QuantizedMultiplier q = quantize_multiplier(s_in / (s_out * pixels));
    a.m0 = q.m0;
    a.m_shift = q.shift;
    const std::vector<int8_t> in = random_i8(a.in.size(), rng);
    std::vector<int8_t> got(a.out.size());
    int8_ref_global_avg_pool(a, in.data(), got.data());
    KernelArgs fa;
    fa.in = a.in;
    fa.out = a.out;
    const std::vector<float> x = dequant(in, s_in, a.in_zp);
    std::vector<float> y(a.out.size());
    ref_global_avg_pool(fa, x.data(), y.data());
    // One requantisation of an exact integer sum: within one step (as for conv above).
    for (size_t i = 0; i < y.size(); ++i)
      ASSERT_LE(std::abs(int{got[i]} - expected_q(y[i], s_out, a)), 1) << i;
  }
}

TEST(Int8ReferenceKernels, ReluClampsAtZeroPoint) {
  Int8Args a;
  a.in = a.out = {1, 1, 256};
  int8_activation_range(FusedActivation::kRelu, -20, &a.act_min, &a.act_max);
  EXPECT_EQ(a.act_min, -20);
  EXPECT_EQ(a.act_max, 127);
  std::vector<int8_t> in(256), out(256);
  for (int i = 0; i < 256; ++i) in[i] = static_cast<int8_t>(i - 128);
  int8_ref_relu(a, in.data(), out.data());
  for (int i = 0; i < 256; ++i) EXPECT_EQ(out[i], std::max(i - 128, -20));
}

// ---- Softmax ---------------------------------------------------------------------------------

std::vector<int8_t> softmax_q(const std::vector<int8_t>& x, float s_in) {
  Int8Args a;
  a.in = a.out = {1, 1, static_cast<int32_t>(x.size())};
  int8_softmax_params(s_in, 1.0f, &a.m0, &a.m_shift, &a.diff_min);
  std::vector<int8_t> y(x.size());
  int8_ref_softmax(a, x.data(), y.data());
  return y;
}

TEST(Int8Softmax, HandComputedValues) {
  // Equal inputs: probability 1/n exactly; q = 256 / n - 128.
  EXPECT_EQ(softmax_q({5, 5}, 0.1f), (std::vector<int8_t>{0, 0}));
  EXPECT_EQ(softmax_q({-7, -7, -7, -7}, 0.1f), (std::vector<int8_t>(4, -64)));
  EXPECT_EQ(softmax_q({3, 3, 3}, 0.05f), (std::vector<int8_t>(3, -43)));  // 85.33 -> 85
  EXPECT_EQ(softmax_q(std::vector<int8_t>(256, 9), 0.02f), (std::vector<int8_t>(256, -127)));
  // One dominant input: probability 1 (256 - 128, clamped to 127) and 0 (-128).
  EXPECT_EQ(softmax_q({127, -128}, 0.1f), (std::vector<int8_t>{127, -128}));
  // Two of three far ahead: 1/2 each.
  EXPECT_EQ(softmax_q({100, -100, 100}, 0.5f), (std::vector<int8_t>{0, -128, 0}));
}

TEST(Int8Softmax, ParamsFollowTflite) {
  int32_t m0 = 0, shift = 0, diff_min = 0;
  // s_in = 0.1f = 13421773 * 2^-27: M = s_in * 2^26 = 6710886.5 = 0.80000001192... * 2^23,
  // so m0 = 6710886.5 * 2^8 = 1717986944 exactly, shift 23;
  // diff_min = -floor(31 * 2^26 / 2^23) = -248.
  int8_softmax_params(0.1f, 1.0f, &m0, &shift, &diff_min);
  EXPECT_EQ(shift, 23);
  EXPECT_EQ(m0, 1717986944);
  EXPECT_EQ(diff_min, -248);
  // s_in = 1/16: M = 2^22 = 0.5 * 2^23 -> m0 = 2^30, shift 23.
  int8_softmax_params(1.0f / 16.0f, 1.0f, &m0, &shift, &diff_min);
  EXPECT_EQ(m0, 1 << 30);
  EXPECT_EQ(shift, 23);
  EXPECT_EQ(diff_min, -248);
}

TEST(Int8Softmax, MatchesFloatWithinOneStep) {
  // The fixed-point exponentials and reciprocal are accurate to ~1e-6 (fixed_point_test), far
  // below the output step 1/256; only values within that of a rounding tie may differ: <= 1.
  Rng rng(3);
  for (int iter = 0; iter < 2000; ++iter) {
    const int n = 1 + rng.below(40);
    const float s_in = std::exp(rng.uniform(-6.0f, 0.0f));
    const int32_t zp = -128 + rng.below(256);
    std::vector<int8_t> x = random_i8(n, rng);
    const std::vector<int8_t> got = softmax_q(x, s_in);
    std::vector<float> xf = dequant(x, s_in, zp), yf(n);
    KernelArgs fa;
    fa.in = fa.out = {1, 1, n};
    ref_softmax(fa, xf.data(), yf.data());
    for (int c = 0; c < n; ++c) {
      const int want = std::clamp(static_cast<int>(std::round(yf[c] * 256.0f)) - 128, -128, 127);
      ASSERT_LE(std::abs(int{got[c]} - want), 1)
          << "n " << n << " s_in " << s_in << " c " << c << " p " << yf[c];
    }
  }
}

TEST(Int8QuantizeDequantize, RoundTrip) {
  // Scale 0.25: every x / scale below is exact in float.
  std::vector<float> x = {0.0f, 0.125f, 0.124f, -0.125f, 1.0f, -1e9f, 1e9f, NAN};
  std::vector<int8_t> q(x.size());
  int8_quantize(x.data(), x.size(), 0.25f, 3, q.data());
  // round(x / 0.25) + 3, ties away from zero; clamped; NaN -> -128.
  EXPECT_EQ(q, (std::vector<int8_t>{3, 4, 3, 2, 7, -128, 127, -128}));
  std::vector<float> back(q.size());
  int8_dequantize(q.data(), q.size(), 0.25f, 3, back.data());
  EXPECT_EQ(back[0], 0.0f);
  EXPECT_EQ(back[4], 1.0f);
  EXPECT_EQ(back[6], 31.0f);
}

TEST(Int8FastKernels, SetsIncludeGenericAndTheScalarForms) {
  // The tests above check every set; on a SIMD build that includes "scalar", the forms a
  // Cortex-M's generic set has, so they are checked on this machine too.
  int n = 0;
  const Int8FastKernels* const* fk = int8_fast_kernel_sets(&n);
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.emplace_back(fk[i]->isa);
  EXPECT_NE(std::find(names.begin(), names.end(), "generic"), names.end());
#if defined(__SSE2__) || defined(__ARM_NEON)
  EXPECT_EQ(names.back(), "scalar");
  EXPECT_EQ(fk[n - 1]->packing, Int8Packing::kRows8);
#endif
  EXPECT_NE(names.front(), "scalar");
}

TEST(Int8QuantizeDequantize, RoundingIsStdRoundForEveryKindOfValue) {
  // int8_quantize rounds without libm (round_half_away): the same as std::round, whose
  // formula it documents, on ties, near-ties, the float spacing around 2^23, huge values,
  // infinities, NaN and signed zeros, at several scales and zero points.
  std::vector<float> x;
  for (int k = -300; k <= 300; ++k) {
    const float t = static_cast<float>(k) + 0.5f;
    x.insert(x.end(), {t, std::nextafter(t, 0.0f), std::nextafter(t, 1e9f), -t,
                       static_cast<float>(k), std::nextafter(static_cast<float>(k), 1e9f)});
  }
  for (float v : {8388607.5f, 8388608.0f, 8388609.0f, 16777216.0f, 3e9f, 1e30f, -0.0f, 0.49999997f,
                  -0.49999997f, 1e-40f, INFINITY, -INFINITY, NAN})
    x.insert(x.end(), {v, -v});
  Rng rng(11);
  for (int i = 0; i < 2000; ++i) x.push_back(rng.uniform(-200.0f, 200.0f));
  for (float scale : {1.0f, 0.25f, 0.37f, 3.1f})
    for (int32_t zp : {-128, -3, 0, 5, 127}) {
      std::vector<int8_t> got(x.size());
      int8_quantize(x.data(), x.size(), scale, zp, got.data());
      for (size_t i = 0; i < x.size(); ++i) {
        float v = std::round(x[i] / scale) + static_cast<float>(zp);
        v = v > 127.0f ? 127.0f : v;
        const int8_t want = v >= -128.0f ? static_cast<int8_t>(v) : int8_t{-128};
        ASSERT_EQ(int{got[i]}, int{want}) << x[i] << " / " << scale << " + " << zp;
      }
    }
}

}  // namespace
}  // namespace tkws
