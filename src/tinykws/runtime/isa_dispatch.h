// Internal to the runtime: what the fast kernel files (ops_fast.cpp, ops_int8_fast.cpp) share to
// build one kernel set per instruction set and list the sets this CPU can run. Each file
// includes its kernel bodies once in a baseline namespace and, where TKWS_ISA_AVX2 is defined,
// once more between TKWS_TARGET_BEGIN("avx2...") and TKWS_TARGET_END().
#pragma once

#if !defined(__GNUC__)
#error "the fast kernels need GCC or Clang (vector extensions, target pragmas)"
#endif

// x86 builds whose baseline lacks AVX2 compile an AVX2 set too, chosen at run time.
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__AVX2__)
#define TKWS_ISA_AVX2 1
#endif

// Compiles the functions up to TKWS_TARGET_END() for target `isa` (a string, e.g. "avx2,fma").
#define TKWS_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define TKWS_TARGET_BEGIN(isa) \
  TKWS_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define TKWS_TARGET_END() TKWS_PRAGMA(clang attribute pop)
#else
#define TKWS_TARGET_BEGIN(isa) TKWS_PRAGMA(GCC push_options) TKWS_PRAGMA(GCC target(isa))
#define TKWS_TARGET_END() TKWS_PRAGMA(GCC pop_options)
#endif

namespace tkws::isa {

// Whether this CPU runs AVX2 (and FMA, with `fma`). Only meaningful where TKWS_ISA_AVX2 is set.
inline bool cpu_has_avx2([[maybe_unused]] bool fma) {
#ifdef TKWS_ISA_AVX2
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && (!fma || __builtin_cpu_supports("fma"));
#else
  return false;
#endif
}

// The kernel sets a CPU runs, best first: `best` when given (non-null), then `generic`.
template <class K>
struct KernelSets {
  const K* sets[2] = {};
  int count = 0;
  KernelSets(const K* best, const K& generic) {
    if (best) sets[count++] = best;
    sets[count++] = &generic;
  }
  const K* const* get(int* n) const {
    *n = count;
    return sets;
  }
};

}  // namespace tkws::isa
