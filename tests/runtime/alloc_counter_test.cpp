// Global operator new/delete replacements for test_runtime that count this thread's
// allocations (see alloc_counter.h), and a self-test of the counter.
#include "alloc_counter.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <new>

namespace {
thread_local long g_allocs = 0;
thread_local int g_active = 0;

void* counted_alloc(std::size_t n) {
  if (g_active) ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) {
  return counted_alloc(n);
}
void* operator new[](std::size_t n) {
  return counted_alloc(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace tkws {

AllocCounter::AllocCounter() : start_(g_allocs) {
  ++g_active;
}
AllocCounter::~AllocCounter() {
  --g_active;
}
long AllocCounter::count() const {
  return g_allocs - start_;
}

TEST(AllocCounter, CountsAllocations) {
  AllocCounter c;
  EXPECT_EQ(c.count(), 0);
  auto p = std::make_unique<int>(3);
  EXPECT_EQ(c.count(), 1);
}

}  // namespace tkws
