// KwsPipeline: front end + normalisation + network, built from a Model alone.
#include "tinykws/runtime/pipeline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "../common/alloc_counter.h"
#include "../format/test_models.h"
#include "tinykws/format/tkws.h"

namespace tkws {
namespace {

using testing_models::dscnn_model;
using testing_models::tiny_model;
using testing_models::uniform_vector;

TEST(Pipeline, TinyModelGivesProbabilities) {
  const Model m = tiny_model();
  KwsPipeline p;
  ASSERT_TRUE(p.create(m).ok());
  EXPECT_EQ(p.num_labels(), 3);
  EXPECT_EQ(p.num_frames(), 7);
  EXPECT_EQ(p.num_features(), 10);
  EXPECT_EQ(p.clip_samples(), 2560);
  EXPECT_EQ(p.labels()[2], "_silence_");
  EXPECT_GT(p.arena_bytes(), 0u);
  for (uint64_t seed = 0; seed < 4; ++seed) {
    const std::vector<float> clip = uniform_vector(p.clip_samples(), seed, -0.3f, 0.3f);
    std::vector<float> probs(3, -1.0f);
    ASSERT_TRUE(p.run(clip.data(), probs.data()).ok());
    float sum = 0.0f;
    for (float q : probs) {
      EXPECT_GE(q, 0.0f);
      EXPECT_LE(q, 1.0f);
      sum += q;
    }
    EXPECT_NEAR(sum, 1.0f, 1e-6f);
  }
}

TEST(Pipeline, FeaturesAreTheFrontEndNormalised) {
  const Model m = tiny_model();
  KwsPipeline p;
  ASSERT_TRUE(p.create(m).ok());
  const std::vector<float> clip = uniform_vector(p.clip_samples(), 7, -0.3f, 0.3f);
  std::vector<float> feats(70), raw(70);
  ASSERT_TRUE(p.features(clip.data(), feats.data()).ok());
  Frontend fe(m.frontend);
  ASSERT_TRUE(fe.ok());
  fe.compute(clip.data(), raw.data());
  for (int t = 0; t < 7; ++t)
    for (int k = 0; k < 10; ++k) {
      const float want = (raw[t * 10 + k] - m.norm_mean[k]) * m.norm_inv_std[k];
      EXPECT_FLOAT_EQ(feats[t * 10 + k], want) << t << "," << k;
    }
  // run() = features() then network().
  std::vector<float> a(3), b(3);
  ASSERT_TRUE(p.network(feats.data(), a.data()).ok());
  ASSERT_TRUE(p.run(clip.data(), b.data()).ok());
  EXPECT_EQ(a, b);
}

TEST(Pipeline, RunAllocatesNothing) {
  const Model m = dscnn_model();  // the course front end, 49 x 10 features
  KwsPipeline p;
  ASSERT_TRUE(p.create(m).ok());
  EXPECT_EQ(p.num_frames(), 49);
  const std::vector<float> clip = uniform_vector(p.clip_samples(), 1, -0.3f, 0.3f);
  std::vector<float> probs(2);
  long allocs;
  {
    AllocCounter count;
    ASSERT_TRUE(p.run(clip.data(), probs.data()).ok());
    ASSERT_TRUE(p.run(clip.data(), probs.data()).ok());
    allocs = count.count();
  }
  EXPECT_EQ(allocs, 0);
  EXPECT_NEAR(probs[0] + probs[1], 1.0f, 1e-6f);
}

TEST(Pipeline, FromAFileImage) {
  // The model file alone rebuilds the pipeline: same probabilities as from the in-memory model.
  const Model m = tiny_model(5);
  const std::vector<uint8_t> bytes = serialize_model(m);
  KwsPipeline a, b;
  ASSERT_TRUE(a.create(m).ok());
  ASSERT_TRUE(b.create(parse_model(bytes.data(), bytes.size(), "tiny.tkws")).ok());
  const std::vector<float> clip = uniform_vector(a.clip_samples(), 3, -0.3f, 0.3f);
  std::vector<float> pa(3), pb(3);
  ASSERT_TRUE(a.run(clip.data(), pa.data()).ok());
  ASSERT_TRUE(b.run(clip.data(), pb.data()).ok());
  EXPECT_EQ(pa, pb);
}

TEST(Pipeline, Int8ModelRunsOnInt8Network) {
  const Model m = testing_models::int8_dense_model();
  ASSERT_EQ(check_model(m), "");
  Interpreter it;
  EXPECT_EQ(it.prepare(m).code, StatusCode::kUnsupported);  // the float interpreter refuses
  KwsPipeline p;
  const Status s = p.create(m);
  ASSERT_TRUE(s.ok()) << s.message;
  EXPECT_TRUE(p.is_int8());
  EXPECT_EQ(p.arena_bytes(), p.int8_network().arena_bytes());
  const std::vector<float> clip = uniform_vector(p.clip_samples(), 4, -0.3f, 0.3f);
  std::vector<float> probs(3, -1.0f);
  long allocs;
  {
    AllocCounter count;
    ASSERT_TRUE(p.run(clip.data(), probs.data()).ok());
    allocs = count.count();
  }
  EXPECT_EQ(allocs, 0);
  float sum = 0.0f;
  for (float q : probs) {
    EXPECT_GE(q, 0.0f);
    EXPECT_LE(q, 1.0f);
    sum += q;
  }
  EXPECT_NEAR(sum, 1.0f, 3.0f / 256.0f);  // int8 softmax output: steps of 1/256
}

TEST(Pipeline, Errors) {
  KwsPipeline p;
  float buf[8] = {};
  EXPECT_EQ(p.run(buf, buf).code, StatusCode::kNotPrepared);
  Model m = tiny_model();
  m.labels.push_back("extra");
  const Status s = p.create(m);
  EXPECT_EQ(s.code, StatusCode::kInvalidModel);
  EXPECT_NE(std::string(s.message).find("output: expected 4 values"), std::string::npos)
      << s.message;
  EXPECT_FALSE(p.ready());
  ASSERT_TRUE(p.create(tiny_model()).ok());
  EXPECT_EQ(p.features(nullptr, buf).code, StatusCode::kInvalidArgument);
}

TEST(Pipeline, ReleasedNetworkMemory) {
  // The streaming detector frees the arena when its reusing network has buffers of its own:
  // the front end still works, the network refuses to run instead of touching freed memory.
  const Model m = dscnn_model();
  KwsPipeline p;
  ASSERT_TRUE(p.create(m).ok());
  EXPECT_GE(p.buffer_bytes(), p.arena_bytes());
  const std::vector<float> clip = uniform_vector(p.clip_samples(), 9, -0.3f, 0.3f);
  std::vector<float> feats(static_cast<size_t>(p.num_frames()) * p.num_features()), again = feats,
                                                                                    probs(4);
  ASSERT_TRUE(p.features(clip.data(), feats.data()).ok());
  p.release_network_memory();
  EXPECT_EQ(p.buffer_bytes(), 0u);
  ASSERT_TRUE(p.features(clip.data(), again.data()).ok());
  EXPECT_EQ(feats, again);
  EXPECT_EQ(p.network(feats.data(), probs.data()).code, StatusCode::kNotPrepared);
  EXPECT_EQ(p.run(clip.data(), probs.data()).code, StatusCode::kNotPrepared);
  ASSERT_TRUE(p.create(m).ok());  // create() gives it back
  EXPECT_TRUE(p.run(clip.data(), probs.data()).ok());
}

}  // namespace
}  // namespace tkws
