// Interpreter: planning, arena size and use, no allocation in invoke(), errors as Status,
// step hook, dequantised tensors, and whole models fast vs reference.
#include "tinykws/runtime/interpreter.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "../common/alloc_counter.h"
#include "../format/test_models.h"

namespace tkws {
namespace {

using testing_models::dscnn_model;
using testing_models::tiny_model;
using testing_models::uniform_vector;

TEST(Interpreter, PlansFusedStepsAndPingPongArena) {
  const Model m = dscnn_model();
  Interpreter it;
  ASSERT_TRUE(it.prepare(m).ok());
  EXPECT_EQ(it.input_shape(), (ActShape{49, 10, 1}));
  EXPECT_EQ(it.output_size(), 2u);
  // conv+BN+ReLU, 4 x (dw+BN+ReLU, pw+BN+ReLU), GAP, dense, softmax.
  ASSERT_EQ(it.num_steps(), 1 + 8 + 3);
  EXPECT_STREQ(it.step_name(0), "Conv2D+BatchNorm+Relu");
  EXPECT_STREQ(it.step_name(1), "DepthwiseConv2D+BatchNorm+Relu");
  EXPECT_STREQ(it.step_name(2), "Conv2D 1x1+BatchNorm+Relu");
  EXPECT_STREQ(it.step_name(11), "Softmax");
  // Largest activation 25 x 5 x 32 floats in each buffer (B starts 64-byte aligned), then
  // scratch for the largest zero-padded input: the depthwise convs' 27 x 7 x 32.
  const size_t act = 25 * 5 * 32 * sizeof(float), pad = 27 * 7 * 32 * sizeof(float);
  EXPECT_EQ(it.arena_bytes(), 2 * act + pad);  // act is a multiple of 64
  Interpreter lean;
  InterpreterOptions lean_opt;
  lean_opt.pad_scratch = false;
  ASSERT_TRUE(lean.prepare(m, lean_opt).ok());
  EXPECT_EQ(lean.arena_bytes(), 2 * act);

  Interpreter ref;
  InterpreterOptions opt;
  opt.kernels = KernelSet::kReference;
  ASSERT_TRUE(ref.prepare(m, opt).ok());
  EXPECT_EQ(ref.num_steps(), static_cast<int>(m.ops.size()));  // one step per op
  EXPECT_STREQ(ref.kernel_set_name(), "reference");
}

TEST(Interpreter, InvokeAllocatesNothingAndRepeats) {
  const Model m = dscnn_model();
  Interpreter it;
  ASSERT_TRUE(it.prepare(m).ok());
  const std::vector<float> x = uniform_vector(it.input_size(), 3, -2.0f, 2.0f);
  std::vector<float> arena(it.arena_bytes() / 4), a(2), b(2);
  long allocs;
  {
    AllocCounter count;
    ASSERT_TRUE(it.invoke(x.data(), a.data(), arena.data(), it.arena_bytes()).ok());
    std::fill(arena.begin(), arena.end(), 1e30f);  // stale arena contents must not matter
    ASSERT_TRUE(it.invoke(x.data(), b.data(), arena.data(), it.arena_bytes()).ok());
    allocs = count.count();
  }
  EXPECT_EQ(allocs, 0);
  EXPECT_EQ(a, b);
  EXPECT_NEAR(a[0] + a[1], 1.0f, 1e-6f);
}

TEST(Interpreter, UsesExactlyItsArena) {
  const Model m = tiny_model();
  Interpreter it;
  ASSERT_TRUE(it.prepare(m).ok());
  const size_t n = it.arena_bytes() / 4;
  ASSERT_GT(n, 0u);
  // Guard zones on both sides stay untouched; the arena itself is written (high-water mark).
  std::vector<float> buf(n + 64, 12345.0f);
  std::vector<float> out(3);
  const std::vector<float> x = uniform_vector(it.input_size(), 4, -2.0f, 2.0f);
  ASSERT_TRUE(it.invoke(x.data(), out.data(), buf.data() + 32, it.arena_bytes()).ok());
  for (size_t i = 0; i < 32; ++i) {
    EXPECT_EQ(buf[i], 12345.0f) << "before the arena, " << i;
    EXPECT_EQ(buf[32 + n + i], 12345.0f) << "after the arena, " << i;
  }
  EXPECT_NE(buf[32], 12345.0f);          // buffer A used
  EXPECT_NE(buf[32 + n - 1], 12345.0f);  // buffer B used to its end
}

TEST(Interpreter, ErrorsAreStatuses) {
  Interpreter it;
  float x[70] = {}, out[3], arena[4];
  Status s = it.invoke(x, out, arena, sizeof arena);
  EXPECT_EQ(s.code, StatusCode::kNotPrepared);

  Model bad = tiny_model();
  bad.ops[0].kernel_h = 5;
  s = it.prepare(bad);
  EXPECT_EQ(s.code, StatusCode::kInvalidModel);
  EXPECT_NE(std::string(s.message).find("op 0 (Conv2D): expected weight"), std::string::npos)
      << s.message;
  EXPECT_FALSE(it.prepared());

  ASSERT_TRUE(it.prepare(tiny_model()).ok());
  std::vector<float> big(it.arena_bytes() / 4);
  s = it.invoke(x, out, big.data(), it.arena_bytes() - 4);
  EXPECT_EQ(s.code, StatusCode::kArenaTooSmall);
  EXPECT_NE(std::string(s.message).find("the model needs"), std::string::npos) << s.message;
  s = it.invoke(nullptr, out, big.data(), it.arena_bytes());
  EXPECT_EQ(s.code, StatusCode::kInvalidArgument);
  EXPECT_TRUE(it.invoke(x, out, big.data(), it.arena_bytes()).ok());
  EXPECT_STREQ(status_code_name(StatusCode::kArenaTooSmall), "arena too small");
}

struct HookLog {
  std::vector<std::string> events;
  std::vector<float> last_output;
};

TEST(Interpreter, StepHookSeesEveryStep) {
  const Model m = tiny_model();
  Interpreter it;
  HookLog log;
  it.set_step_hook(
      [](void* user, const StepEvent& e) {
        auto* l = static_cast<HookLog*>(user);
        l->events.push_back(std::to_string(e.step) + (e.done ? " end " : " begin ") + e.name);
        if (e.done) l->last_output.assign(e.output, e.output + e.shape.size());
      },
      &log);
  InterpreterOptions opt;
  opt.kernels = KernelSet::kReference;
  ASSERT_TRUE(it.prepare(m, opt).ok());  // the hook survives prepare()
  std::vector<float> arena(it.arena_bytes() / 4), out(3);
  const std::vector<float> x = uniform_vector(70, 5, -2.0f, 2.0f);
  ASSERT_TRUE(it.invoke(x.data(), out.data(), arena.data(), it.arena_bytes()).ok());
  ASSERT_EQ(log.events.size(), 2 * m.ops.size());
  EXPECT_EQ(log.events[0], "0 begin Conv2D");
  EXPECT_EQ(log.events[1], "0 end Conv2D");
  EXPECT_EQ(log.events.back(), "12 end Softmax");
  EXPECT_EQ(log.last_output, out);
}

// Whole models: fast plan (folded, fused, SIMD) against the reference plan.
void expect_fast_matches_reference(const Model& m, float tol) {
  InterpreterOptions ropt;
  ropt.kernels = KernelSet::kReference;
  Interpreter ref;
  ASSERT_TRUE(ref.prepare(m, ropt).ok());
  int sets = 0;
  fast_kernel_sets(&sets);
  for (int s = 0; s < sets; ++s) {
    InterpreterOptions fopt;
    fopt.fast_set = s;
    Interpreter fast;
    ASSERT_TRUE(fast.prepare(m, fopt).ok());
    for (uint64_t seed = 0; seed < 5; ++seed) {
      const std::vector<float> x = uniform_vector(ref.input_size(), seed, -2.0f, 2.0f);
      std::vector<float> ar(ref.arena_bytes() / 4), af(fast.arena_bytes() / 4);
      std::vector<float> yr(ref.output_size()), yf(fast.output_size());
      ASSERT_TRUE(ref.invoke(x.data(), yr.data(), ar.data(), ref.arena_bytes()).ok());
      ASSERT_TRUE(fast.invoke(x.data(), yf.data(), af.data(), fast.arena_bytes()).ok());
      for (size_t i = 0; i < yr.size(); ++i)
        EXPECT_NEAR(yf[i], yr[i], tol) << fast.kernel_set_name() << " seed " << seed;
    }
  }
}

TEST(Interpreter, WholeModelsFastMatchReference) {
  // Probabilities after 5-11 layers of float rounding in a different order: 1e-5 absolute is
  // ~100x the observed difference and far below any decision-relevant change.
  expect_fast_matches_reference(tiny_model(), 1e-5f);
  expect_fast_matches_reference(dscnn_model(), 1e-5f);
  expect_fast_matches_reference(dscnn_model(24, 2, 12, 99), 1e-5f);
}

TEST(Interpreter, QuantisedAndHalfTensorsAreDequantised) {
  Model m = tiny_model();
  // fc.weight as int8 per output row: real = scale[o] * (q - zero_point[o]).
  Tensor& w = m.tensors[m.find_tensor("fc.weight")];
  w.dtype = DType::kI8;
  w.quant.axis = 0;
  w.quant.scale = {0.01f, 0.02f, 0.03f};
  w.quant.zero_point = {0, 1, -1};
  w.i8.clear();
  for (size_t i = 0; i < w.f32.size(); ++i) w.i8.push_back(static_cast<int8_t>(i * 7 % 50 - 25));
  std::vector<float> want;
  for (size_t i = 0; i < w.i8.size(); ++i)
    want.push_back(w.quant.scale[i / 6] * static_cast<float>(w.i8[i] - w.quant.zero_point[i / 6]));
  w.f32.clear();
  ASSERT_EQ(check_model(m), "");
  std::vector<float> got;
  Status st;
  ASSERT_TRUE(tensor_as_float(w, &got, &st));
  EXPECT_EQ(got, want);
  // The model runs, and equals the float model holding the dequantised values.
  Model f = m;
  Tensor& fw = f.tensors[f.find_tensor("fc.weight")];
  fw.dtype = DType::kF32;
  fw.f32 = want;
  fw.i8.clear();
  fw.quant = {};
  Interpreter a, b;
  ASSERT_TRUE(a.prepare(m).ok());
  ASSERT_TRUE(b.prepare(f).ok());
  const std::vector<float> x = uniform_vector(70, 9, -2.0f, 2.0f);
  std::vector<float> arena(a.arena_bytes() / 4), ya(3), yb(3);
  ASSERT_TRUE(a.invoke(x.data(), ya.data(), arena.data(), a.arena_bytes()).ok());
  ASSERT_TRUE(b.invoke(x.data(), yb.data(), arena.data(), b.arena_bytes()).ok());
  EXPECT_EQ(ya, yb);

  Tensor bad = w;
  bad.i8.pop_back();
  EXPECT_FALSE(tensor_as_float(bad, &got, &st));
  EXPECT_EQ(st.code, StatusCode::kInvalidModel);
}

TEST(Interpreter, MoveKeepsPreparedWeights) {
  const Model m = tiny_model();
  Interpreter a;
  ASSERT_TRUE(a.prepare(m).ok());
  const std::vector<float> x = uniform_vector(70, 11, -2.0f, 2.0f);
  std::vector<float> arena(a.arena_bytes() / 4), y1(3), y2(3);
  ASSERT_TRUE(a.invoke(x.data(), y1.data(), arena.data(), a.arena_bytes()).ok());
  Interpreter b = std::move(a);
  ASSERT_TRUE(b.invoke(x.data(), y2.data(), arena.data(), b.arena_bytes()).ok());
  EXPECT_EQ(y1, y2);
}

}  // namespace
}  // namespace tkws
