// The allocation counter of test_runtime (tests/common/alloc_counter.h: this file holds its
// operator new / delete replacements) and a self-test.
#define TINYKWS_ALLOC_COUNTER_DEFINITIONS
#include "../common/alloc_counter.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace tkws {

TEST(AllocCounter, CountsAllocations) {
  AllocCounter c;
  EXPECT_EQ(c.count(), 0);
  auto p = std::make_unique<int>(3);
  EXPECT_EQ(c.count(), 1);
  auto a = std::make_unique<int[]>(4);
  EXPECT_EQ(c.count(), 2);
}

}  // namespace tkws
