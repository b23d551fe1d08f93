// Internal to the runtime: what the fast kernel files (ops_fast.cpp, ops_int8_fast.cpp) share to
// list the kernel sets this CPU can run (the per-ISA build itself: common/isa_target.h).
#pragma once

#if !defined(__GNUC__)
#error "the fast kernels need GCC or Clang (vector extensions, target pragmas)"
#endif

#include "tinykws/common/isa_target.h"  // TKWS_ISA_AVX2, TKWS_TARGET_*, cpu_has_avx2

namespace tkws::isa {

// The kernel sets a CPU runs, best first: `best` when given (non-null), then `generic`, then
// `scalar` when given: the no-SIMD forms (a Cortex-M's generic set), built as a set of its own
// on SIMD targets so that the tests, which check every set, check them on the build machine.
template <class K>
struct KernelSets {
  const K* sets[3] = {};
  int count = 0;
  KernelSets(const K* best, const K& generic, const K* scalar = nullptr) {
    if (best) sets[count++] = best;
    sets[count++] = &generic;
    if (scalar) sets[count++] = scalar;
  }
  const K* const* get(int* n) const {
    *n = count;
    return sets;
  }
};

}  // namespace tkws::isa
