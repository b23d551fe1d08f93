// Int8Network::invoke() allocates nothing (docs/architecture.md, conventions): this test binary
// counts this thread's calls of the global operator new.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "int8_test_util.h"
#include "tinykws/compress/quantize.h"
#include "tinykws/runtime/int8_network.h"

namespace {
thread_local long g_news = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_news;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace tkws {
namespace {

TEST(Int8Network, InvokeAllocatesNothing) {
  const Model f = int8_testing::ptq_model(3);
  const std::vector<float> calib = int8_testing::random_features(f, 8, 1);
  const Model q = quantize_int8(f, calib.data(), 8);
  for (bool reference : {false, true}) {
    Int8NetworkOptions opt;
    opt.reference = reference;
    Int8Network net;
    ASSERT_TRUE(net.prepare(q, opt).ok());
    std::vector<uint8_t> arena(net.arena_bytes());
    std::vector<float> p(net.output_size());
    const long before = g_news;
    for (int i = 0; i < 8; ++i)
      ASSERT_TRUE(
          net.invoke(&calib[i * net.input_size()], p.data(), arena.data(), arena.size()).ok());
    EXPECT_EQ(g_news - before, 0) << (reference ? "reference" : "fast");
  }
}

}  // namespace
}  // namespace tkws
