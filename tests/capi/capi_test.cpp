// The C API (runtime/tinykws.h): the same probabilities as KwsPipeline, raw features as the
// front end computes them, clips fitted to the clip length, and errors as statuses with
// messages, never exceptions or aborts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../format/test_models.h"
#include "tinykws/format/tkws.h"
#include "tinykws/frontend/frontend.h"
#include "tinykws/runtime/detector.h"
#include "tinykws/runtime/pipeline.h"
#include "tinykws/runtime/tinykws.h"

namespace tkws {
namespace {

using testing_models::tiny_model;
using testing_models::uniform_vector;

struct Handle {
  tinykws_model* m = nullptr;
  ~Handle() { tinykws_close(m); }
};

TEST(CApi, OpenBufferClassifiesLikeThePipeline) {
  const Model model = tiny_model(3);
  const std::vector<uint8_t> bytes = serialize_model(model);
  Handle h;
  ASSERT_EQ(tinykws_open_buffer(bytes.data(), bytes.size(), &h.m), TINYKWS_OK)
      << tinykws_last_error(nullptr);
  ASSERT_EQ(tinykws_num_labels(h.m), 3);
  EXPECT_STREQ(tinykws_label(h.m, 2), "_silence_");
  EXPECT_EQ(tinykws_label(h.m, 3), nullptr);
  EXPECT_EQ(tinykws_label(h.m, -1), nullptr);
  EXPECT_EQ(tinykws_sample_rate(h.m), 16000);
  EXPECT_EQ(tinykws_clip_samples(h.m), 2560);
  EXPECT_EQ(tinykws_num_frames(h.m), 7);
  EXPECT_EQ(tinykws_num_features(h.m), 10);
  EXPECT_EQ(tinykws_is_int8(h.m), 0);

  KwsPipeline pipe;
  ASSERT_TRUE(pipe.create(parse_model(bytes.data(), bytes.size(), "m")).ok());
  const std::vector<float> clip = uniform_vector(2560, 4, -0.5f, 0.5f);
  std::vector<float> want(3), got(3);
  ASSERT_TRUE(pipe.run(clip.data(), want.data()).ok());
  ASSERT_EQ(tinykws_classify(h.m, clip.data(), clip.size(), got.data()), TINYKWS_OK);
  EXPECT_EQ(got, want);
  EXPECT_EQ(tinykws_argmax(got.data(), 3),
            static_cast<int>(std::max_element(want.begin(), want.end()) - want.begin()));

  // A short clip is zero-padded at the end, a long one cut.
  std::vector<float> padded(clip.begin(), clip.begin() + 1000);
  padded.resize(2560, 0.0f);
  ASSERT_TRUE(pipe.run(padded.data(), want.data()).ok());
  ASSERT_EQ(tinykws_classify(h.m, clip.data(), 1000, got.data()), TINYKWS_OK);
  EXPECT_EQ(got, want);
  std::vector<float> longer = clip;
  longer.resize(5000, 0.7f);
  ASSERT_TRUE(pipe.run(clip.data(), want.data()).ok());
  ASSERT_EQ(tinykws_classify(h.m, longer.data(), longer.size(), got.data()), TINYKWS_OK);
  EXPECT_EQ(got, want);

  // Raw features: what the front end writes before normalisation.
  Frontend fe(model.frontend);
  std::vector<float> raw(70), feats(70);
  fe.compute(clip.data(), raw.data());
  ASSERT_EQ(tinykws_features(h.m, clip.data(), clip.size(), feats.data()), TINYKWS_OK);
  EXPECT_EQ(feats, raw);
}

TEST(CApi, OpenFileAndErrors) {
  namespace fs = std::filesystem;
  const std::string dir =
      (fs::temp_directory_path() / ("tkws_capi_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  const std::string path = dir + "/m.tkws";
  write_model(path, tiny_model(5));
  Handle h;
  ASSERT_EQ(tinykws_open_file(path.c_str(), &h.m), TINYKWS_OK) << tinykws_last_error(nullptr);
  EXPECT_STREQ(tinykws_last_error(h.m), "");

  tinykws_model* bad = reinterpret_cast<tinykws_model*>(0x1);
  EXPECT_EQ(tinykws_open_file((dir + "/missing.tkws").c_str(), &bad), TINYKWS_ERROR_IO);
  EXPECT_EQ(bad, nullptr);
  EXPECT_NE(std::string(tinykws_last_error(nullptr)).find("missing.tkws: cannot open"),
            std::string::npos);

  const char junk[] = "RIFF....WAVEfmt ";
  EXPECT_EQ(tinykws_open_buffer(junk, sizeof junk, &bad), TINYKWS_ERROR_INVALID_MODEL);
  EXPECT_NE(std::string(tinykws_last_error(nullptr)).find("bad magic"), std::string::npos)
      << tinykws_last_error(nullptr);
  // A truncated image: a message, no crash.
  std::vector<uint8_t> bytes = serialize_model(tiny_model(5));
  bytes.resize(bytes.size() / 2);
  EXPECT_EQ(tinykws_open_buffer(bytes.data(), bytes.size(), &bad), TINYKWS_ERROR_INVALID_MODEL);
  EXPECT_EQ(tinykws_open_buffer(nullptr, 10, &bad), TINYKWS_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tinykws_open_buffer(junk, sizeof junk, nullptr), TINYKWS_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tinykws_open_file(nullptr, &bad), TINYKWS_ERROR_INVALID_ARGUMENT);

  float probs[3];
  EXPECT_EQ(tinykws_classify(h.m, nullptr, 10, probs), TINYKWS_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tinykws_last_error(h.m)).find("tinykws_classify"), std::string::npos);
  const float one = 0.1f;
  EXPECT_EQ(tinykws_classify(h.m, &one, 0, probs), TINYKWS_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tinykws_classify(nullptr, &one, 1, probs), TINYKWS_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tinykws_classify(h.m, &one, 1, probs), TINYKWS_OK);  // recovers
  EXPECT_EQ(tinykws_num_labels(nullptr), 0);
  EXPECT_EQ(tinykws_argmax(probs, 0), -1);
  tinykws_close(nullptr);
  fs::remove_all(dir);
}

TEST(CApi, Int8Model) {
  const std::vector<uint8_t> bytes = serialize_model(testing_models::int8_dense_model());
  Handle h;
  ASSERT_EQ(tinykws_open_buffer(bytes.data(), bytes.size(), &h.m), TINYKWS_OK)
      << tinykws_last_error(nullptr);
  EXPECT_EQ(tinykws_is_int8(h.m), 1);
  const std::vector<float> clip = uniform_vector(2560, 8, -0.5f, 0.5f);
  float probs[3];
  ASSERT_EQ(tinykws_classify(h.m, clip.data(), clip.size(), probs), TINYKWS_OK);
  EXPECT_NEAR(probs[0] + probs[1] + probs[2], 1.0f, 0.02f);
}

// The C API detector reports what StreamDetector reports, with the options string applied on top
// of the model's defaults; bad options fail with a message naming them.
TEST(CApi, DetectorMatchesStreamDetector) {
  const Model model = tiny_model(3);
  const std::vector<uint8_t> bytes = serialize_model(model);
  Handle h;
  ASSERT_EQ(tinykws_open_buffer(bytes.data(), bytes.size(), &h.m), TINYKWS_OK);
  tinykws_detector* d = nullptr;
  const char* opts = "threshold=0, min_hops=1, refractory_ms=300, hop_ms=100, gate=0";
  ASSERT_EQ(tinykws_detector_create(h.m, opts, &d), TINYKWS_OK)
      << tinykws_detector_last_error(nullptr);
  tinykws_close(h.m);  // the detector keeps what it needs
  h.m = nullptr;

  DetectorSettings s = model.detector;
  s.threshold = 0.0f, s.min_hops = 1, s.refractory_ms = 300, s.hop_ms = 100, s.gate = false;
  StreamDetector ref;
  ASSERT_TRUE(ref.create(model, s).ok());
  std::vector<DetectionEvent> want;
  const std::vector<float> x = uniform_vector(40000, 5, -0.4f, 0.4f);
  ASSERT_TRUE(ref.push(
                     x.data(), x.size(),
                     [](void* u, const DetectionEvent& e) {
                       static_cast<std::vector<DetectionEvent>*>(u)->push_back(e);
                     },
                     &want)
                  .ok());
  ASSERT_GT(want.size(), 3u);

  std::vector<tinykws_event> got;
  for (size_t pos = 0; pos < x.size(); pos += 777) {  // pushes of any length
    ASSERT_EQ(tinykws_detector_push(d, x.data() + pos, std::min<size_t>(777, x.size() - pos)),
              TINYKWS_OK);
    tinykws_event ev[2];
    for (int k; (k = tinykws_detector_read(d, ev, 2)) > 0;) got.insert(got.end(), ev, ev + k);
  }
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].label, want[i].label);
    EXPECT_EQ(got[i].score, want[i].score);
    EXPECT_EQ(got[i].end_sample, want[i].end_sample);
    EXPECT_EQ(got[i].time_s, want[i].time_s);
  }
  tinykws_detector_reset(d);
  tinykws_event ev;
  EXPECT_EQ(tinykws_detector_read(d, &ev, 1), 0);
  EXPECT_EQ(tinykws_detector_push(d, nullptr, 0), TINYKWS_OK);
  EXPECT_EQ(tinykws_detector_push(d, nullptr, 5), TINYKWS_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tinykws_detector_last_error(d)).find("null samples"), std::string::npos);
  tinykws_detector_close(d);

  ASSERT_EQ(tinykws_open_buffer(bytes.data(), bytes.size(), &h.m), TINYKWS_OK);
  EXPECT_EQ(tinykws_detector_create(h.m, "treshold=0.5", &d), TINYKWS_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(d, nullptr);
  EXPECT_NE(std::string(tinykws_detector_last_error(nullptr)).find("unknown option 'treshold'"),
            std::string::npos);
  EXPECT_EQ(tinykws_detector_create(h.m, "hop_ms=0", &d), TINYKWS_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tinykws_detector_last_error(nullptr)).find("hop_ms"), std::string::npos)
      << tinykws_detector_last_error(nullptr);
  EXPECT_EQ(tinykws_detector_create(h.m, "threshold=abc", &d), TINYKWS_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tinykws_detector_create(nullptr, "", &d), TINYKWS_ERROR_INVALID_ARGUMENT);
  tinykws_detector_close(nullptr);
}

// reuse_activations=0|1 and shift_kept_rows=0|1 change the work per hop and the memory, never
// the detections.
TEST(CApi, DetectorReuseOptionKeepsTheEvents) {
  const std::vector<uint8_t> bytes = serialize_model(tiny_model(3));
  Handle h;
  ASSERT_EQ(tinykws_open_buffer(bytes.data(), bytes.size(), &h.m), TINYKWS_OK);
  const std::vector<float> x = uniform_vector(40000, 8, -0.4f, 0.4f);
  auto events = [&](const char* opts) {
    tinykws_detector* d = nullptr;
    std::vector<tinykws_event> got;
    EXPECT_EQ(tinykws_detector_create(h.m, opts, &d), TINYKWS_OK)
        << tinykws_detector_last_error(nullptr);
    if (!d) return got;
    for (size_t pos = 0; pos < x.size(); pos += 1000) {
      EXPECT_EQ(tinykws_detector_push(d, x.data() + pos, std::min<size_t>(1000, x.size() - pos)),
                TINYKWS_OK);
      tinykws_event ev[8];
      for (int k; (k = tinykws_detector_read(d, ev, 8)) > 0;) got.insert(got.end(), ev, ev + k);
    }
    tinykws_detector_close(d);
    return got;
  };
  // 40 ms = 2 frames: the first conv's stride divides it, so rows are kept between hops.
  const auto on = events("threshold=0,min_hops=1,refractory_ms=200,hop_ms=40,gate=0");
  const auto off =
      events("threshold=0,min_hops=1,refractory_ms=200,hop_ms=40,gate=0,reuse_activations=0");
  const auto moved =
      events("threshold=0,min_hops=1,refractory_ms=200,hop_ms=40,gate=0,shift_kept_rows=1");
  ASSERT_GT(on.size(), 5u);
  for (const auto* other : {&off, &moved}) {
    ASSERT_EQ(on.size(), other->size());
    for (size_t i = 0; i < on.size(); ++i) {
      EXPECT_EQ(on[i].label, (*other)[i].label);
      EXPECT_EQ(on[i].score, (*other)[i].score);
      EXPECT_EQ(on[i].end_sample, (*other)[i].end_sample);
    }
  }
  tinykws_detector* d = nullptr;
  EXPECT_EQ(tinykws_detector_create(h.m, "reuse_activations=yes", &d),
            TINYKWS_ERROR_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace tkws
