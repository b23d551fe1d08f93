// StreamDetector: each hop's scores are KwsPipeline::run on the window's clip, the result
// does not depend on how the samples are split into pushes, the energy gate skips silence,
// and push() allocates nothing.
#include "tinykws/runtime/detector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../common/alloc_counter.h"
#include "../format/test_models.h"
#include "int8_test_util.h"

namespace tkws {
namespace {

using testing_models::tiny_model;

// Bytes the reusing network for m holds (rings, buffers, scratch) at this shift.
size_t reuse_state_bytes(const Model& m, int shift_rows) {
  KwsPipeline p;
  EXPECT_TRUE(p.create(m).ok());
  if (m.is_int8()) {
    RowReuseInt8Network r;
    EXPECT_TRUE(r.create(p.int8_network(), shift_rows).ok());
    return r.state_bytes();
  }
  RowReuseNetwork r;
  EXPECT_TRUE(r.create(p.interpreter(), shift_rows).ok());
  return r.state_bytes();
}
using testing_models::uniform_vector;

struct Hop {
  int64_t end_sample;
  double time_s;
  bool ran;
  std::vector<float> scores;
  int fired;
};

struct Recorder {
  std::vector<Hop> hops;
  std::vector<DetectionEvent> events;
  static void on_hop(void* u, const HopInfo& h) {
    auto* r = static_cast<Recorder*>(u);
    Hop x{h.end_sample, h.time_s, h.ran, {}, h.fired};
    if (h.scores) x.scores.assign(h.scores, h.scores + 3);
    r->hops.push_back(x);
  }
  static void on_event(void* u, const DetectionEvent& e) {
    static_cast<Recorder*>(u)->events.push_back(e);
  }
};

// Pushes `x` in chunks of the given sizes (cycled); returns what was recorded.
Recorder stream(StreamDetector& d, const std::vector<float>& x, std::vector<size_t> chunks) {
  Recorder r;
  d.reset();
  d.set_hop_hook(&Recorder::on_hop, &r);
  size_t at = 0;
  for (size_t k = 0; at < x.size(); ++k) {
    const size_t n = std::min(chunks[k % chunks.size()], x.size() - at);
    EXPECT_TRUE(d.push(x.data() + at, n, &Recorder::on_event, &r).ok());
    at += n;
  }
  d.set_hop_hook(nullptr, nullptr);
  return r;
}

DetectorSettings no_gate(int hop_ms) {
  DetectorSettings s;
  s.gate = false;
  s.hop_ms = hop_ms;
  return s;
}

TEST(StreamDetector, EachHopIsTheClipPipelineOnItsWindow) {
  const Model m = tiny_model();  // 2560-sample clips, 7 frames of 640 / 320
  StreamDetector d;
  ASSERT_TRUE(d.create(m, no_gate(60)).ok());
  EXPECT_EQ(d.hop_frames(), 3);  // 60 ms / 20 ms
  const std::vector<float> x = uniform_vector(16000, 3, -0.5f, 0.5f);
  const Recorder r = stream(d, x, {16000});
  // Frames in 16000 samples: 1 + (16000 - 640) / 320 = 49; hops at 7, 10, ..., 49 frames.
  ASSERT_EQ(r.hops.size(), 15u);
  KwsPipeline p;
  ASSERT_TRUE(p.create(m).ok());
  for (size_t i = 0; i < r.hops.size(); ++i) {
    const int64_t start = static_cast<int64_t>(3 * i) * 320;
    EXPECT_EQ(r.hops[i].end_sample, start + 2560) << i;
    EXPECT_DOUBLE_EQ(r.hops[i].time_s, (start + 2560) / 16000.0);
    ASSERT_TRUE(r.hops[i].ran);
    std::vector<float> want(3);
    ASSERT_TRUE(p.run(x.data() + start, want.data()).ok());
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(r.hops[i].scores[c], want[c], 1e-6f) << i << " " << c;
  }
  EXPECT_EQ(d.hops(), 15);
  EXPECT_EQ(d.network_runs(), 15);
  EXPECT_EQ(d.samples_pushed(), 16000);
}

TEST(StreamDetector, PushSizesDoNotChangeTheResult) {
  const Model m = tiny_model();
  DetectorSettings s = no_gate(100);
  s.threshold = 0.0f, s.min_hops = 1, s.refractory_ms = 300;  // fires often
  StreamDetector d;
  ASSERT_TRUE(d.create(m, s).ok());
  const std::vector<float> x = uniform_vector(40000, 5, -0.4f, 0.4f);
  const Recorder whole = stream(d, x, {40000});
  ASSERT_GT(whole.events.size(), 5u);
  for (const auto& chunks : {std::vector<size_t>{1}, {7, 333, 5000}, {320}, {641, 2, 9999}}) {
    const Recorder r = stream(d, x, chunks);
    ASSERT_EQ(r.hops.size(), whole.hops.size());
    for (size_t i = 0; i < r.hops.size(); ++i) {
      EXPECT_EQ(r.hops[i].end_sample, whole.hops[i].end_sample);
      EXPECT_EQ(r.hops[i].scores, whole.hops[i].scores) << i;  // bit-identical
    }
    ASSERT_EQ(r.events.size(), whole.events.size());
    for (size_t i = 0; i < r.events.size(); ++i) {
      EXPECT_EQ(r.events[i].label, whole.events[i].label);
      EXPECT_EQ(r.events[i].end_sample, whole.events[i].end_sample);
      EXPECT_EQ(r.events[i].score, whole.events[i].score);
    }
  }
  // Events are the hops that fired, at their times; never closer than the refractory time.
  size_t k = 0;
  for (const Hop& h : whole.hops)
    if (h.fired >= 0) {
      ASSERT_LT(k, whole.events.size());
      EXPECT_EQ(whole.events[k].label, h.fired);
      EXPECT_EQ(whole.events[k++].time_s, h.time_s);
    }
  EXPECT_EQ(k, whole.events.size());
  for (size_t i = 1; i < whole.events.size(); ++i)
    EXPECT_GT(whole.events[i].time_s - whole.events[i - 1].time_s, 0.3 - 1e-9);
}

TEST(StreamDetector, NonKeywordClassesNeverFire) {
  Model m = tiny_model();
  m.keyword_flags = {0, 0, 1};  // only "_silence_" may fire (a test of the flags, not a use)
  DetectorSettings s = no_gate(100);
  s.threshold = 0.0f, s.min_hops = 1, s.refractory_ms = 0;
  StreamDetector d;
  ASSERT_TRUE(d.create(m, s).ok());
  const Recorder r = stream(d, uniform_vector(20000, 9, -0.4f, 0.4f), {999});
  ASSERT_FALSE(r.events.empty());
  for (const DetectionEvent& e : r.events) EXPECT_EQ(e.label, 2);
}

TEST(StreamDetector, EnergyGateSkipsSilence) {
  const Model m = tiny_model();
  DetectorSettings s = no_gate(60);
  s.gate = true, s.gate_dbfs = -40.0f, s.gate_min_speech_ms = 40, s.gate_hangover_ms = 200;
  StreamDetector d;
  ASSERT_TRUE(d.create(m, s).ok());
  // 1 s of silence, 0.3 s of noise at about -20 dBFS, 1.5 s of silence.
  std::vector<float> x(16000, 0.0f);
  const std::vector<float> loud = uniform_vector(4800, 2, -0.17f, 0.17f);
  x.insert(x.end(), loud.begin(), loud.end());
  x.resize(x.size() + 24000, 0.0f);
  const Recorder r = stream(d, x, {512});
  int ran = 0;
  for (const Hop& h : r.hops) {
    ran += h.ran;
    // The network runs only while a hop holds speech: loud frames start at sample 16000 and
    // the hang-over ends 200 ms after the last loud frame (frame start < 20800).
    const bool may_run = h.end_sample > 16000 + 2 * 320 && h.end_sample < 20800 + 640 + 3200 + 960;
    if (h.ran) EXPECT_TRUE(may_run) << h.end_sample;
  }
  EXPECT_GT(ran, 5);
  EXPECT_LT(ran, static_cast<int>(r.hops.size()) / 3);
  EXPECT_EQ(d.network_runs(), ran);
}

TEST(StreamDetector, ReusedActivationsGiveTheSameScores) {
  // A float DS-CNN and the committed int8 model, both 49 frames with a stride-2 first conv.
  for (const Model& m : {testing_models::dscnn_model(16, 2, 3), int8_testing::int8_fixture()}) {
    DetectorSettings s = no_gate(80);                               // 4 frames: rows kept
    s.gate = true, s.gate_dbfs = -40.0f, s.gate_hangover_ms = 200;  // gaps restart the reuse
    s.threshold = 0.0f, s.min_hops = 1, s.refractory_ms = 0;
    StreamDetector with, without, moved;
    InterpreterOptions rings, shifted;
    rings.shift_kept_rows = false, shifted.shift_kept_rows = true;
    ASSERT_TRUE(with.create(m, s, rings).ok());
    ASSERT_TRUE(without.create(m, s, rings, false).ok());
    // Kept activation rows and the feature window stored once and moved each hop.
    ASSERT_TRUE(moved.create(m, s, shifted).ok());
    EXPECT_TRUE(moved.reuses_activations());
    EXPECT_LT(moved.state_bytes() + 49 * m.frontend.num_features() * sizeof(float),
              with.state_bytes());
    EXPECT_TRUE(with.reuses_activations());
    EXPECT_FALSE(without.reuses_activations());
    // With reuse the rings replace the pipeline's arena and clip buffer (freed).
    KwsPipeline pipe;
    ASSERT_TRUE(pipe.create(m).ok());
    EXPECT_EQ(with.state_bytes(),
              without.state_bytes() - pipe.buffer_bytes() + reuse_state_bytes(m, 4));
    // Noise, silence, noise: the network runs, stops, runs again.
    std::vector<float> x = uniform_vector(64000, 6, -0.3f, 0.3f);
    std::fill(x.begin() + 30000, x.begin() + 40000, 0.0f);
    const Recorder a = stream(with, x, {777}), b = stream(without, x, {4000}),
                   c = stream(moved, x, {333});
    ASSERT_EQ(a.hops.size(), b.hops.size());
    ASSERT_EQ(c.hops.size(), b.hops.size());
    int ran = 0, gated = 0;
    for (size_t i = 0; i < a.hops.size(); ++i) {
      ASSERT_EQ(a.hops[i].ran, b.hops[i].ran) << i;
      EXPECT_EQ(a.hops[i].scores, b.hops[i].scores) << i;  // bit-identical
      EXPECT_EQ(a.hops[i].fired, b.hops[i].fired) << i;
      ASSERT_EQ(c.hops[i].ran, b.hops[i].ran) << i;
      EXPECT_EQ(c.hops[i].scores, b.hops[i].scores) << i;
      EXPECT_EQ(c.hops[i].fired, b.hops[i].fired) << i;
      ran += a.hops[i].ran, gated += !a.hops[i].ran;
    }
    EXPECT_GT(ran, 20);
    EXPECT_GT(gated, 3);
    // A hop the first conv's stride does not divide (100 ms = 5 frames): nothing to reuse.
    s.hop_ms = 100;
    ASSERT_TRUE(with.create(m, s).ok());
    EXPECT_FALSE(with.reuses_activations());
  }
}

TEST(StreamDetector, PushAllocatesNothing) {
  const Model m = testing_models::dscnn_model();  // the default clip geometry, 49 frames
  // The network whole each hop; activations reused; those with the kept rows moved.
  for (int mode : {100, 80, -80}) {
    const int hop_ms = mode < 0 ? -mode : mode;
    StreamDetector d;
    DetectorSettings s;
    s.threshold = 0.0f, s.min_hops = 1, s.hop_ms = hop_ms;
    InterpreterOptions opt;
    opt.shift_kept_rows = mode < 0;
    ASSERT_TRUE(d.create(m, s, opt).ok());
    EXPECT_EQ(d.reuses_activations(), hop_ms == 80);
    const std::vector<float> x = uniform_vector(48000, 4, -0.3f, 0.3f);
    Recorder r;
    r.events.reserve(1000), r.hops.reserve(1000);
    AllocCounter counter;
    for (size_t at = 0; at < x.size(); at += 1234)
      ASSERT_TRUE(
          d.push(x.data() + at, std::min<size_t>(1234, x.size() - at), &Recorder::on_event, &r)
              .ok());
    d.reset();
    ASSERT_TRUE(d.push(x.data(), 16000, &Recorder::on_event, &r).ok());
    EXPECT_EQ(counter.count(), 0);
    EXPECT_GT(d.network_runs(), 0);
    EXPECT_FALSE(r.events.empty());
    EXPECT_GT(d.state_bytes(), (mode < 0 ? 1u : 2u) * 49 * 10 * sizeof(float));
  }
}

TEST(StreamDetector, RejectsBadSettingsAndUseBeforeCreate) {
  StreamDetector d;
  const float x[4] = {};
  EXPECT_EQ(d.push(x, 4).code, StatusCode::kNotPrepared);
  DetectorSettings s;
  s.hop_ms = 0;
  Status st = d.create(tiny_model(), s);
  EXPECT_EQ(st.code, StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(st.message).find("detector.hop_ms = 0"), std::string::npos) << st.message;
  s = DetectorSettings{};
  s.thresholds = {0.5f};
  EXPECT_EQ(d.create(tiny_model(), s).code, StatusCode::kInvalidArgument);
  Model bad = tiny_model();
  bad.labels.pop_back();
  EXPECT_EQ(d.create(bad, DetectorSettings{}).code, StatusCode::kInvalidModel);
  ASSERT_TRUE(d.create(tiny_model(), DetectorSettings{}).ok());
  EXPECT_EQ(d.push(nullptr, 3).code, StatusCode::kInvalidArgument);
  EXPECT_TRUE(d.push(nullptr, 0).ok());
}

}  // namespace
}  // namespace tkws
