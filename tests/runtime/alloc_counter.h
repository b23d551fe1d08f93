// Counts heap allocations made by this thread while an AllocCounter is alive: the test binary
// replaces the global operator new (alloc_counter_test.cpp) to make "invoke() allocates
// nothing" checkable.
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
