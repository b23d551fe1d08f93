// Counts heap allocations made by this thread while an AllocCounter is alive, so "compute() /
// invoke() allocates nothing" is checkable (docs/architecture.md, conventions: prepare, then
// run). The counting replaces the global operator new / delete: exactly one file of each test
// binary defines TINYKWS_ALLOC_COUNTER_DEFINITIONS before including this header
// (tests/runtime/alloc_counter_test.cpp, tests/frontend/frontend_test.cpp,
// tests/compress/int8_network_alloc_test.cpp); the others include it plainly.
#pragma once

namespace tkws {

class AllocCounter {
 public:
  AllocCounter();
  ~AllocCounter();
  long count() const;  // allocations since construction

 private:
  long start_;
};

}  // namespace tkws

#ifdef TINYKWS_ALLOC_COUNTER_DEFINITIONS
#include <cstdlib>
#include <new>

namespace tkws::alloc_counter_detail {
inline thread_local long g_allocs = 0;
inline thread_local int g_active = 0;

inline void* counted_alloc(std::size_t n) {
  if (g_active) ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace tkws::alloc_counter_detail

// noinline: inlined into callers, GCC 12 flags free() on memory from `new` as mismatched.
__attribute__((noinline)) void* operator new(std::size_t n) {
  return tkws::alloc_counter_detail::counted_alloc(n);
}
__attribute__((noinline)) void* operator new[](std::size_t n) {
  return tkws::alloc_counter_detail::counted_alloc(n);
}
__attribute__((noinline)) void operator delete(void* p) noexcept {
  std::free(p);
}
__attribute__((noinline)) void operator delete[](void* p) noexcept {
  std::free(p);
}
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
__attribute__((noinline)) void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace tkws {
AllocCounter::AllocCounter() : start_(alloc_counter_detail::g_allocs) {
  ++alloc_counter_detail::g_active;
}
AllocCounter::~AllocCounter() {
  --alloc_counter_detail::g_active;
}
long AllocCounter::count() const {
  return alloc_counter_detail::g_allocs - start_;
}
}  // namespace tkws
#endif  // TINYKWS_ALLOC_COUNTER_DEFINITIONS
