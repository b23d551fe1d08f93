// MAC counting from op shapes, the per-layer profile (float and int8 networks) and the latency
// protocol's bookkeeping. Small run counts: these check structure, not speed.
#include "tinykws/eval/profile.h"

#include <gtest/gtest.h>

#include <chrono>
#include <numeric>

#include "../format/test_models.h"
#include "tinykws/common/error.h"
#include "tinykws/eval/metrics.h"
#include "tinykws/runtime/pipeline.h"

namespace tkws {
namespace {

using testing_models::dscnn_model;
using testing_models::int8_dense_model;
using testing_models::tiny_model;

TEST(Macs, TinyModelByHand) {
  // Input 7x10x1. conv1 3x3/2 same -> 4x5x4: 80 outputs x 1 x 9; BN: 80; dw 3x3 -> 4x5x4:
  // 80 x 9; BN 80; pw 1x1 -> 4x5x6: 120 x 4; pools, GAP, ReLU, softmax 0; dense 6 -> 3: 18.
  const Model m = tiny_model();
  const std::vector<int64_t> want = {720, 80, 0, 720, 80, 0, 480, 0, 0, 0, 0, 18, 0};
  EXPECT_EQ(model_macs(m), want);
  ActShape out;
  EXPECT_EQ(op_macs(m, 0, model_input_shape(m), &out), 720);
  EXPECT_EQ(out, (ActShape{4, 5, 4}));
}

TEST(Macs, DsCnn) {
  // 49x10 -> conv 3x3/2 same: 25x5x32 = 4000 outputs x 9; per block dw 4000 x 9, pw 4000 x 32,
  // two BatchNorms of 4000; dense 32 x 2.
  const Model m = dscnn_model(32, 4);
  const auto macs = model_macs(m);
  const int64_t total = std::accumulate(macs.begin(), macs.end(), int64_t{0});
  EXPECT_EQ(total, 36000 + 4000 + 4 * (36000 + 4000 + 128000 + 4000) + 64);
}

TEST(Macs, BadShapeIsAnInputError) {
  const Model m = tiny_model();
  EXPECT_THROW(op_macs(m, 11, ActShape{1, 1, 5}), InputError);  // dense expects 6 inputs
}

TEST(Profile, FloatRowsMacsAndTimesAddUp) {
  const Model m = dscnn_model(32, 4);
  for (KernelSet ks : {KernelSet::kFast, KernelSet::kReference}) {
    SCOPED_TRACE(ks == KernelSet::kFast ? "fast" : "reference");
    InterpreterOptions io;
    io.kernels = ks;
    KwsPipeline pipe;
    ASSERT_TRUE(pipe.create(m, io).ok());
    const Profile p = profile_pipeline(pipe, m, 12, 2);
    EXPECT_EQ(p.runner, "float");
    EXPECT_EQ(p.runs, 12);
    EXPECT_EQ(p.discarded, 2);
    ASSERT_EQ(p.rows.size(), 1u + pipe.interpreter().num_steps());
    EXPECT_EQ(p.rows[0].name, "front end");
    EXPECT_EQ(p.rows[0].shape, (ActShape{49, 10, 1}));
    EXPECT_EQ(p.rows[0].first_op, -1);
    // Every model op is covered once, in order.
    int next_op = 0;
    for (size_t k = 1; k < p.rows.size(); ++k) {
      EXPECT_EQ(p.rows[k].first_op, next_op) << p.rows[k].name;
      next_op = p.rows[k].last_op + 1;
      EXPECT_GE(p.rows[k].time.median, 0.0);
    }
    EXPECT_EQ(next_op, static_cast<int>(m.ops.size()));
    // Fast kernels fold BatchNorm into the conv before it: its MACs disappear.
    const int64_t bn = 4000 * 9;
    const int64_t all = 36000 + 4 * (36000 + 128000) + 64 + bn;
    EXPECT_EQ(p.network_macs, ks == KernelSet::kFast ? all - bn : all);
    EXPECT_EQ(p.rows[1].macs, 36000);
    EXPECT_EQ(p.rows.back().shape, (ActShape{1, 1, 2}));
    // The step times are nested inside the network call: per run their sum is at most the call,
    // and the rest (checks, hook clock reads) is small next to ~0.7 M MACs of work. 0.5 leaves
    // room for a loaded machine.
    EXPECT_LE(p.steps_sum.median, p.network.median);
    EXPECT_GE(p.steps_sum.median, 0.5 * p.network.median)
        << p.steps_sum.median << " of " << p.network.median;
    EXPECT_NEAR(p.other.median, p.network.median - p.steps_sum.median, 0.5 * p.network.median);
    EXPECT_GT(p.frontend.median, 0.0);

    // The hook is removed afterwards and the pipeline still runs.
    std::vector<float> clip(16000, 0.01f), probs(2);
    EXPECT_TRUE(pipe.run(clip.data(), probs.data()).ok());

    const nlohmann::json j = profile_json(p);
    EXPECT_EQ(j["rows"].size(), p.rows.size());
    EXPECT_EQ(j["rows"][1]["macs"], 36000);
    EXPECT_TRUE(j["rows"][1]["time_ms"].contains("median"));
    EXPECT_EQ(j["network_macs"], p.network_macs);
    const std::string t = profile_table(p);
    for (const char* w : {"front end", "Conv2D", "MACs", "36,000", "other", "total"})
      EXPECT_NE(t.find(w), std::string::npos) << w << " not in\n" << t;
  }
}

TEST(Profile, Int8) {
  const Model m = int8_dense_model();
  KwsPipeline pipe;
  ASSERT_TRUE(pipe.create(m).ok());
  ASSERT_TRUE(pipe.is_int8());
  const Profile p = profile_pipeline(pipe, m, 5, 1);
  EXPECT_EQ(p.runner, "int8");
  ASSERT_EQ(p.rows.size(), 3u);  // front end, dense, softmax
  EXPECT_EQ(p.rows[1].first_op, 0);
  EXPECT_EQ(p.rows[1].macs, 70 * 3);
  EXPECT_EQ(p.rows[1].shape, (ActShape{1, 1, 3}));
  EXPECT_EQ(p.rows[2].first_op, 1);
  EXPECT_EQ(p.rows[2].macs, 0);
  EXPECT_EQ(p.network_macs, 210);
  EXPECT_LE(p.steps_sum.median, p.network.median);
}

TEST(Profile, RejectsBadRunCounts) {
  const Model m = tiny_model();
  KwsPipeline pipe;
  ASSERT_TRUE(pipe.create(m).ok());
  EXPECT_THROW(profile_pipeline(pipe, m, 0, 0), InputError);
  EXPECT_THROW(profile_pipeline(pipe, m, 5, 5), InputError);
}

TEST(Latency, ProtocolBookkeeping) {
  const Model m = tiny_model();
  KwsPipeline pipe;
  ASSERT_TRUE(pipe.create(m).ok());
  const LatencyReport L = measure_latency(pipe, pipe.clip_samples(), 6, 2, 0.0);
  EXPECT_EQ(L.runs, 6);
  EXPECT_EQ(L.discarded, 2);
  EXPECT_EQ(L.total_samples_ms.size(), 4u);
  EXPECT_GE(L.total.median, L.model.median);
  EXPECT_GE(L.total.median, L.preprocess.median);

  // The pause follows every run but the last: 3 runs with 30 ms pauses take >= 60 ms.
  const auto t0 = std::chrono::steady_clock::now();
  const LatencyReport P = measure_latency(pipe, pipe.clip_samples(), 3, 1, 30.0);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(ms, 60.0);
  EXPECT_EQ(P.pause_ms, 30.0);
  EXPECT_EQ(P.total_samples_ms.size(), 2u);
}

TEST(Latency, MedianStd) {
  const Stat s = median_std({4, 1, 3, 2});
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(1.25));  // population std (numpy's default)
  EXPECT_DOUBLE_EQ(median_std({5, 1, 3}).median, 3);
  EXPECT_DOUBLE_EQ(median_std({}).median, 0);
}

TEST(Latency, DefaultsAreTheCourseProtocol) {
  const EvalOptions o;
  EXPECT_EQ(o.latency_runs, 200);
  EXPECT_EQ(o.latency_discard, 100);
  EXPECT_EQ(o.latency_pause_ms, 100.0);
}

}  // namespace
}  // namespace tkws
