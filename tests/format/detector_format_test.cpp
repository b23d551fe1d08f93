// Format v3: keyword flags and detector defaults (tkws.h section 8a, model.h DetectorSettings).
// Round trips, older versions reading as the defaults, range checks and damaged fields.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>

#include "test_models.h"
#include "tinykws/format/tkws.h"
#include "tkws_test_util.h"

namespace tkws {
namespace {

using testing_models::tiny_model;
using namespace tkws_testing;

// tiny_model's labels with the last one a non-keyword, and every detector field changed.
Model detector_model() {
  Model m = tiny_model();
  m.keyword_flags.assign(m.labels.size(), 1);
  m.keyword_flags.back() = 0;
  DetectorSettings& d = m.detector;
  d.hop_ms = 60, d.smoothing_ms = 450, d.threshold = 0.65f;
  d.thresholds.assign(m.labels.size(), 0.7f);
  d.thresholds[0] = 0.9f;
  d.min_hops = 3, d.refractory_ms = 1500;
  d.gate = false, d.gate_dbfs = -62.5f, d.gate_min_speech_ms = 80, d.gate_hangover_ms = 1200;
  return m;
}

void put_f32(Bytes& b, size_t at, float v) {
  uint32_t x;
  std::memcpy(&x, &v, 4);
  put_u32(b, at, x);
}

TEST(TkwsV3, KeywordFlagsAndDetectorRoundTrip) {
  const Model m = detector_model();
  ASSERT_EQ(check_model(m), "");
  const Bytes b = serialize_model(m);
  EXPECT_EQ(get_u32(b, 4), 3u);
  const Model back = parse_model(b.data(), b.size(), "v3.tkws");
  expect_models_equal(m, back);
  EXPECT_TRUE(back.is_keyword(0));
  EXPECT_FALSE(back.is_keyword(m.labels.size() - 1));
  EXPECT_EQ(serialize_model(back), b);
  // The section as tkws.h lists it.
  const V2File f = walk_v2(b);
  const V3Detector& d = f.detector;
  ASSERT_EQ(d.flags.size(), m.labels.size());
  EXPECT_EQ(d.flags.back().value, 0u);
  EXPECT_EQ(d.hop_ms.value, 60u);
  EXPECT_EQ(d.smoothing_ms.value, 450u);
  float x;
  std::memcpy(&x, &b[d.threshold_at], 4);
  EXPECT_EQ(x, 0.65f);
  EXPECT_EQ(d.num_thresholds.value, m.labels.size());
  std::memcpy(&x, &b[d.thresholds_at], 4);
  EXPECT_EQ(x, 0.9f);
  EXPECT_EQ(d.min_hops.value, 3u);
  EXPECT_EQ(d.refractory_ms.value, 1500u);
  EXPECT_EQ(d.gate.value, 0u);
  std::memcpy(&x, &b[d.gate_dbfs_at], 4);
  EXPECT_EQ(x, -62.5f);
  EXPECT_EQ(d.gate_min_speech_ms.value, 80u);
  EXPECT_EQ(d.gate_hangover_ms.value, 1200u);
}

TEST(TkwsV3, OlderVersionsReadAsDefaultsAndCannotHoldSettings) {
  const Model plain = tiny_model();
  for (uint32_t v : {1u, 2u}) {
    const Bytes b = serialize_model(plain, v);
    const Model back = parse_model(b.data(), b.size(), "old.tkws");
    EXPECT_TRUE(back.keyword_flags.empty());
    EXPECT_TRUE(back.detector == DetectorSettings{});
    for (size_t i = 0; i < back.labels.size(); ++i) EXPECT_TRUE(back.is_keyword(i));
    try {
      serialize_model(detector_model(), v);
      FAIL() << "v" << v << " accepted detector settings";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("cannot store keyword flags or detector settings"),
                std::string::npos)
          << e.what();
    }
  }
  // A v3 file of a model with no flags and default settings: an empty flag list, defaults.
  const Bytes b = serialize_model(plain);
  EXPECT_EQ(walk_v2(b).detector.num_flags.value, 0u);
  expect_models_equal(plain, parse_model(b.data(), b.size(), "v3.tkws"));
}

TEST(TkwsV3, CheckModelValidatesFlagsAndRanges) {
  struct Case {
    const char* name;
    std::function<void(Model&)> edit;
    std::string expect;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Case cases[] = {
      {"flags size", [](Model& m) { m.keyword_flags = {1}; },
       "keyword_flags: expected 0 or 3 values (one per label), found 1"},
      {"flag value",
       [](Model& m) {
         m.keyword_flags = {1, 2, 0};
       },
       "keyword_flags[1] ('up'): expected 0 or 1, found 2"},
      {"thresholds size", [](Model& m) { m.detector.thresholds = {0.5f}; },
       "detector.thresholds: expected 0 or 3 values (one per label), found 1"},
      {"threshold entry",
       [](Model& m) {
         m.detector.thresholds = {0.5f, 1.5f, 0.5f};
       },
       "detector.thresholds[1] = 1.5 must be in [0, 1]"},
      {"hop", [](Model& m) { m.detector.hop_ms = 0; }, "detector.hop_ms = 0 must be in [1, 5000]"},
      {"smoothing", [](Model& m) { m.detector.smoothing_ms = -1; },
       "detector.smoothing_ms = -1 must be in [0, 10000] ms"},
      {"threshold NaN", [&](Model& m) { m.detector.threshold = nan; },
       "detector.threshold = nan must be in [0, 1]"},
      {"min_hops", [](Model& m) { m.detector.min_hops = 0; },
       "detector.min_hops = 0 must be in [1, 1000]"},
      {"refractory", [](Model& m) { m.detector.refractory_ms = 60001; },
       "detector.refractory_ms = 60001 must be in [0, 60000] ms"},
      {"gate level", [](Model& m) { m.detector.gate_dbfs = 3; },
       "detector.gate_dbfs = 3 must be in [-120, 0] dBFS"},
      {"min speech", [](Model& m) { m.detector.gate_min_speech_ms = 20000; },
       "detector.gate_min_speech_ms = 20000 must be in [0, 10000] ms"},
      {"hang-over", [](Model& m) { m.detector.gate_hangover_ms = -5; },
       "detector.gate_hangover_ms = -5 must be in [0, 60000] ms"},
  };
  for (const Case& c : cases) {
    Model m = tiny_model();
    ASSERT_EQ(m.labels, (std::vector<std::string>{"down", "up", "_silence_"}));
    c.edit(m);
    const std::string e = check_model(m);
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.name << ": got \"" << e << "\"";
    EXPECT_THROW(serialize_model(m), std::invalid_argument) << c.name;
  }
}

// Damage inside the section that keeps the checksum valid: the reader names the problem.
TEST(TkwsV3, CorruptDetectorFieldsWithValidChecksum) {
  const Bytes full = serialize_model(detector_model());
  const V2File f = walk_v2(full);
  const V3Detector& d = f.detector;
  const Varint* rec = &d.record_bytes;
  struct Case {
    const char* name;
    std::function<void(Bytes&)> edit;
    std::string expect;
  };
  const Case cases[] = {
      {"flag 2", [&](Bytes& b) { set_uvar(b, d.flags[1], 2, rec); },
       "invalid model: keyword_flags[1] ('up'): expected 0 or 1, found 2"},
      {"flag > 255", [&](Bytes& b) { set_uvar(b, d.flags[0], 300, rec); },
       "detector section keyword_flags: expected a value <= 255, found 300"},
      {"flag count", [&](Bytes& b) { set_uvar(b, d.num_flags, 2, rec); },
       "detector section"},  // the fields after it shift: a later read fails, named
      {"hop 0", [&](Bytes& b) { set_uvar(b, d.hop_ms, 0, rec); },
       "invalid model: detector.hop_ms = 0 must be in [1, 5000]"},
      {"hop > 2^31", [&](Bytes& b) { set_uvar(b, d.hop_ms, uint64_t{1} << 31, rec); },
       "detector section: expected a value <= 2147483647, found 2147483648"},
      {"threshold", [&](Bytes& b) { put_f32(b, d.threshold_at, 2.0f); },
       "invalid model: detector.threshold = 2 must be in [0, 1]"},
      {"per-label threshold", [&](Bytes& b) { put_f32(b, d.thresholds_at + 4, -0.5f); },
       "invalid model: detector.thresholds[1] = -0.5 must be in [0, 1]"},
      {"threshold count", [&](Bytes& b) { set_uvar(b, d.num_thresholds, 1000, rec); },
       "truncated: detector section thresholds count 1000"},
      {"gate 2", [&](Bytes& b) { set_uvar(b, d.gate, 2, rec); },
       "detector section: gate: expected 0 or 1, found 2"},
      {"gate level", [&](Bytes& b) { put_f32(b, d.gate_dbfs_at, 10.0f); },
       "invalid model: detector.gate_dbfs = 10 must be in [-120, 0] dBFS"},
      {"section too short",
       [&](Bytes& b) { set_uvar(b, d.record_bytes, d.record_bytes.value - 1); },
       "truncated: detector section"},
      {"section missing",
       [&](Bytes& b) {
         const auto at = b.begin() + static_cast<ptrdiff_t>(d.record_bytes.at);
         b.erase(at, at + static_cast<ptrdiff_t>(d.record_bytes.size + d.record_bytes.value));
       },
       "model.tkws: "},
  };
  for (const Case& c : cases) {
    Bytes b = full;
    c.edit(b);
    reseal(b);
    const std::string e = parse_error(b);
    EXPECT_EQ(e.rfind("model.tkws: ", 0), 0u) << c.name << ": " << e;
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.name << ": got \"" << e << "\"";
  }
}

// Fields appended to the section by a newer writer are skipped.
TEST(TkwsV3, DetectorSectionSkipsAppendedFields) {
  const Model m = detector_model();
  Bytes b = serialize_model(m);
  const V3Detector d = walk_v2(b).detector;
  const size_t end = d.record_bytes.end() + d.record_bytes.value;
  b.insert(b.begin() + static_cast<ptrdiff_t>(end), 5, 0xCD);
  set_uvar(b, d.record_bytes, d.record_bytes.value + 5);
  reseal(b);
  expect_models_equal(m, parse_model(b.data(), b.size(), "grown.tkws"));
}

TEST(TkwsV3, RandomMutationsNeverCrash) {
  const auto [parsed, rejected] = fuzz_parser(serialize_model(detector_model()), 777, 10000);
  EXPECT_GT(rejected, 5000);
}

}  // namespace
}  // namespace tkws
