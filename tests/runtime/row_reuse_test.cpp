// RowReuseNetwork: on windows that slide over a long feature sequence, every output is
// bit-identical to Interpreter::invoke on the same window, for each kernel set, with and without
// pad scratch, for shifts the strides divide and shifts they do not, and across restarts; the
// plan keeps what the geometry allows; invoke() allocates nothing. RowReuseInt8Network: the
// same against Int8Network::invoke, bit-identical on every platform.
#include "tinykws/runtime/row_reuse.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "../common/alloc_counter.h"
#include "../format/test_models.h"
#include "int8_test_util.h"

namespace tkws {
namespace {

using testing_models::dscnn_model;
using testing_models::tiny_model;
using testing_models::uniform_vector;

// The default preset's shape of network: depthwise kernels 5 x 3 (time x features), first conv
// 5 x 3 stride 2, on 49 x 10 features.
Model dscnn_5x3(int ch = 12, int blocks = 3) {
  Model m = dscnn_model(ch, blocks, 4, 11);
  for (Op& op : m.ops)
    if (op.kernel_h == 3) {
      op.kernel_h = 5;
      Tensor& w = m.tensors[op.tensors[0]];
      w.shape[2] = 5;
      w.f32 = uniform_vector(w.numel(), w.f32.size(), -0.4f, 0.4f);
    }
  return m;
}

struct Case {
  const char* name;
  Model model;
};

std::vector<Case> cases() {
  return {{"dscnn 3x3", dscnn_model(16, 2, 3)}, {"dscnn 5x3", dscnn_5x3()}, {"tiny", tiny_model()}};
}

// Bit-identical where measured: x86-64 (gcc, and clang in the fuzz build) and aarch64 (gcc,
// under qemu). On 32-bit ARM (gcc, NEON-VFPv4) a recomputed row can differ from the whole
// network's in the last bits (measured: 7e-9 on a probability), so there the test allows 1e-6.
#if defined(__x86_64__) || defined(__aarch64__)
constexpr bool kBitExact = true;
#else
constexpr bool kBitExact = false;
#endif

void expect_same_as_whole_network(const Model& m, const InterpreterOptions& opt, int shift,
                                  const std::string& what) {
  Interpreter net;
  ASSERT_TRUE(net.prepare(m, opt).ok()) << what;
  RowReuseNetwork reuse;
  ASSERT_TRUE(reuse.create(net, shift, opt.shift_kept_rows).ok()) << what;
  const int rows = net.input_shape().h, row = net.input_shape().w * net.input_shape().c;
  const int calls = 24;
  const std::vector<float> seq =
      uniform_vector(static_cast<size_t>(rows + shift * calls) * row, 17, -2.0f, 2.0f);
  std::vector<float> arena(net.arena_bytes() / sizeof(float) + 1), want(net.output_size()),
      got(net.output_size());
  for (int i = 0; i < calls; ++i) {
    const float* window = seq.data() + static_cast<size_t>(i) * shift * row;
    ASSERT_TRUE(net.invoke(window, want.data(), arena.data(), net.arena_bytes()).ok());
    const bool continues = i > 0 && i % 9 != 0;  // restarts now and then, as after the gate
    reuse.invoke(window, got.data(), continues);
    if (kBitExact) {
      ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)))
          << what << ", call " << i << ": " << want[0] << " vs " << got[0];
    } else {
      for (size_t k = 0; k < want.size(); ++k)
        ASSERT_NEAR(want[k], got[k], 1e-6f) << what << ", call " << i << ", output " << k;
    }
  }
}

TEST(RowReuse, BitIdenticalToTheWholeNetwork) {
  for (const Case& c : cases()) {
    const int rows = c.model.frontend.num_frames();
    for (int shift : {1, 2, 3, 4, 5, 6, 8}) {
      if (shift >= rows) continue;
      InterpreterOptions fast, no_pad, ref, moved, moved_ref;
      fast.shift_kept_rows = no_pad.shift_kept_rows = ref.shift_kept_rows = false;
      no_pad.pad_scratch = false;
      ref.kernels = moved_ref.kernels = KernelSet::kReference;
      moved.shift_kept_rows = moved_ref.shift_kept_rows = true;  // rows stored once, moved
      const std::string what = std::string(c.name) + ", shift " + std::to_string(shift);
      expect_same_as_whole_network(c.model, fast, shift, what + ", fast");
      expect_same_as_whole_network(c.model, no_pad, shift, what + ", fast without pad scratch");
      expect_same_as_whole_network(c.model, ref, shift, what + ", reference");
      expect_same_as_whole_network(c.model, moved, shift, what + ", fast, kept rows moved");
      expect_same_as_whole_network(c.model, moved_ref, shift, what + ", reference, moved");
    }
  }
}

TEST(RowReuse, KeepsWhatTheGeometryAllows) {
  Interpreter net;
  ASSERT_TRUE(net.prepare(dscnn_5x3(40, 3)).ok());  // 49 rows, conv stride 2 -> 25 rows
  RowReuseNetwork r;
  // A shift the first conv's stride does not divide: nothing can be kept.
  ASSERT_TRUE(r.create(net, 5).ok());
  EXPECT_FALSE(r.reuses());
  EXPECT_DOUBLE_EQ(r.continued_ops(), r.full_ops());
  // 4 rows (80 ms): conv, then each (depthwise, pointwise) pair keeps rows; GAP, dense and
  // softmax run whole. Rows to recompute of 25: 4 at the first conv (1 reading the top
  // padding, 3 reading new rows or the bottom padding), then 8, 12 and 16 at the three pairs,
  // each 5 x 3 depthwise layer widening the changed rows by 2 above and below.
  ASSERT_TRUE(r.create(net, 4).ok());
  EXPECT_TRUE(r.reuses());
  EXPECT_EQ(r.reusing_steps(), 7);  // conv, 3 x (dw, pw) with BN and ReLU folded
  EXPECT_EQ(r.ring_steps(), 4);     // conv and the pointwise convs; dw rows feed their pw only
  EXPECT_LT(r.continued_ops(), 0.6 * r.full_ops());
  EXPECT_GT(r.continued_ops(), 0.2 * r.full_ops());
  EXPECT_GT(r.state_bytes(), (4u * 2 + 3) * 25 * 5 * 40 * sizeof(float));
  EXPECT_LT(r.state_bytes(), (4u * 2 + 3) * 25 * 5 * 40 * sizeof(float) + 200000);
  // A shift as long as the window: a new window each time.
  ASSERT_TRUE(r.create(net, 49).ok());
  EXPECT_FALSE(r.reuses());
}

TEST(RowReuse, InvokeAllocatesNothing) {
  Interpreter net;
  ASSERT_TRUE(net.prepare(dscnn_5x3()).ok());
  RowReuseNetwork r;
  ASSERT_TRUE(r.create(net, 2).ok());
  ASSERT_TRUE(r.reuses());
  const std::vector<float> x = uniform_vector(net.input_size(), 3, -1.0f, 1.0f);
  std::vector<float> y(net.output_size());
  AllocCounter counter;
  r.invoke(x.data(), y.data(), false);
  for (int i = 0; i < 5; ++i) r.invoke(x.data(), y.data(), true);
  EXPECT_EQ(counter.count(), 0);
}

TEST(RowReuse, Int8BitIdenticalToTheWholeNetwork) {
  // 49 x 10, conv 3x3/2, dw, pw, GAP, dense, softmax; and its first three ops alone, whose
  // output (the last pointwise layer's map) shows every row, where the softmax's steps of
  // 1/256 could hide a wrong one.
  const Model whole = int8_testing::int8_fixture();
  Model head = whole;
  head.ops.resize(3);
  ASSERT_EQ(head.ops.back().type, OpType::kConv2D);
  head.labels.clear();  // one "label" per output value, so the model checks
  head.keyword_flags.clear();
  for (int i = 0; i < 25 * 5 * 16; ++i) head.labels.push_back("c" + std::to_string(i));
  for (const Model& m : {whole, head})
    for (bool reference : {false, true}) {
      Int8NetworkOptions opt;
      opt.reference = reference;
      Int8Network net;
      ASSERT_TRUE(net.prepare(m, opt).ok());
      for (int shift : {1, 2, 3, 4, 6, 8})
        for (bool moved : {false, true}) {
          RowReuseInt8Network reuse;
          ASSERT_TRUE(reuse.create(net, shift, moved).ok());
          EXPECT_EQ(reuse.reuses(), shift % 2 == 0) << shift;  // the first conv's stride is 2
          if (moved && reuse.ring_steps() > 0) {               // kept rows stored once: less state
            RowReuseInt8Network rings;
            ASSERT_TRUE(rings.create(net, shift, false).ok());
            EXPECT_LT(reuse.state_bytes(), rings.state_bytes()) << shift;
          }
          const int rows = net.input_shape().h, row = net.input_shape().w;
          const int calls = 20;
          const std::vector<float> seq = int8_testing::random_features(m, 1 + calls, 5);  // enough
          std::vector<uint8_t> arena(net.arena_bytes());
          std::vector<float> want(net.output_size()), got(net.output_size());
          for (int i = 0; i < calls; ++i) {
            const float* window = seq.data() + static_cast<size_t>(i) * shift * row;
            ASSERT_LE(static_cast<size_t>((i * shift + rows) * row), seq.size());
            ASSERT_TRUE(net.invoke(window, want.data(), arena.data(), arena.size()).ok());
            reuse.invoke(window, got.data(), i > 0 && i % 7 != 0);
            ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)))
                << m.ops.size() << " ops, " << (reference ? "reference" : "fast") << ", shift "
                << shift << (moved ? ", kept rows moved" : "") << ", call " << i;
          }
        }
    }
}

TEST(RowReuse, RefusesWhatItCannotPlan) {
  RowReuseNetwork r;
  Interpreter net;
  EXPECT_EQ(r.create(net, 4).code, StatusCode::kNotPrepared);
  ASSERT_TRUE(net.prepare(tiny_model()).ok());
  EXPECT_EQ(r.create(net, 0).code, StatusCode::kInvalidArgument);
  RowReuseInt8Network r8;
  Int8Network net8;
  EXPECT_EQ(r8.create(net8, 4).code, StatusCode::kNotPrepared);
  ASSERT_TRUE(net8.prepare(int8_testing::int8_fixture()).ok());
  EXPECT_EQ(r8.create(net8, 0).code, StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tkws
