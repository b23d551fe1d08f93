// Int8Network::invoke() allocates nothing (docs/architecture.md, conventions), counted by
// tests/common/alloc_counter.h.
#include <gtest/gtest.h>

#include <vector>

#include "../common/alloc_counter.h"
#include "int8_test_util.h"
#include "tinykws/runtime/int8_network.h"

namespace tkws {
namespace {

TEST(Int8Network, InvokeAllocatesNothing) {
  const Model q = int8_testing::int8_fixture();
  const std::vector<float> calib = int8_testing::random_features(q, 8, 1);
  for (bool reference : {false, true}) {
    Int8NetworkOptions opt;
    opt.reference = reference;
    Int8Network net;
    ASSERT_TRUE(net.prepare(q, opt).ok());
    std::vector<uint8_t> arena(net.arena_bytes());
    std::vector<float> p(net.output_size());
    AllocCounter allocs;
    for (int i = 0; i < 8; ++i)
      ASSERT_TRUE(
          net.invoke(&calib[i * net.input_size()], p.data(), arena.data(), arena.size()).ok());
    EXPECT_EQ(allocs.count(), 0) << (reference ? "reference" : "fast");
  }
}

}  // namespace
}  // namespace tkws
