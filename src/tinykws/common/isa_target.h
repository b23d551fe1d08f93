// Building one set of kernels per instruction set inside a baseline build, for every layer
// that has SIMD kernels (frontend/ FFT and feature lanes, runtime/ network ops). A file
// includes its kernel bodies once in a baseline namespace and, where TKWS_ISA_AVX2 is defined,
// once more between TKWS_TARGET_BEGIN("avx2...") and TKWS_TARGET_END(); at run time
// tkws::isa::cpu_has_avx2() chooses. Header-only, no dependencies.
#pragma once

// x86 GCC/Clang builds whose baseline lacks AVX2 compile an AVX2 set too, chosen at run time.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(__AVX2__)
#define TKWS_ISA_AVX2 1
#endif

// Compiles the functions up to TKWS_TARGET_END() for target `isa` (a string, e.g. "avx2,fma").
#if defined(__GNUC__)
#define TKWS_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define TKWS_TARGET_BEGIN(isa) \
  TKWS_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define TKWS_TARGET_END() TKWS_PRAGMA(clang attribute pop)
#else
#define TKWS_TARGET_BEGIN(isa) TKWS_PRAGMA(GCC push_options) TKWS_PRAGMA(GCC target(isa))
#define TKWS_TARGET_END() TKWS_PRAGMA(GCC pop_options)
#endif
#endif

namespace tkws::isa {

// Whether this CPU runs AVX2 (and FMA, with `fma`). Always false where TKWS_ISA_AVX2 is unset.
inline bool cpu_has_avx2([[maybe_unused]] bool fma) {
#ifdef TKWS_ISA_AVX2
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && (!fma || __builtin_cpu_supports("fma"));
#else
  return false;
#endif
}

}  // namespace tkws::isa
