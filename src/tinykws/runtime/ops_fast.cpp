// Fast kernels, compiled once per instruction set from ops_fast_kernels.inc:
//  - fast_generic: the build's baseline (SSE2 on x86-64, NEON on AArch64, scalar elsewhere);
//  - fast_avx2 (x86 with GCC or Clang): AVX2 + FMA, used when the CPU has both.
// This file is built with -ffp-contract=fast (runtime/CMakeLists.txt) so a * b + c becomes
// an FMA where the target has one; results then differ from the reference kernels by rounding
// only (tests/runtime/fast_ops_test.cpp states the tolerance).
#include "tinykws/runtime/isa_dispatch.h"
#include "tinykws/runtime/ops.h"

// The kernels pass 32-byte vectors only between static inline helpers of one instruction set,
// never across an ABI boundary, so GCC's note about the AVX vector ABI does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

// GCC 12 with -march=native on Zen 3/4 tunes for znver3, which makes these kernels ~30 % slower
// than generic tuning (measured on the DS-CNN's pointwise convs); keep generic tuning here.
#if !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#pragma GCC target("tune=generic")
#endif

// 32-bit ARM with NEON (armhf built with -mfpu=neon-vfpv4): GCC maps float vector operations to
// NEON only when allowed to flush denormals to zero (NEON's float unit does), which
// -funsafe-math-optimizations permits; otherwise these kernels run on scalar VFP instructions.
// AArch64 NEON is IEEE-complete and needs nothing.
#if !defined(__clang__) && defined(__ARM_NEON) && !defined(__aarch64__)
#pragma GCC optimize("unsafe-math-optimizations")
#endif

namespace tkws {

namespace fast_generic {
#if defined(__AVX__)
constexpr int kLanes = 8;   // built with -march=... that has AVX: full-width vectors,
constexpr int kPwRows = 4;  // and the fast_avx2 tiles
constexpr int kPwVecs = 2;
#elif defined(__SSE2__) || defined(__ARM_NEON)
constexpr int kLanes = 4;   // SSE2, NEON: 128-bit registers
constexpr int kPwRows = 3;  // 3 x 4 accumulator vectors: 12 of 16 SSE registers (measured best)
constexpr int kPwVecs = 4;
#else
// No SIMD (a Cortex-M4F): pointwise, general conv and general depthwise take the scalar forms
// of ops_fast_kernels.inc (TKWS_FAST_SCALAR); the other kernels keep small vectors.
#define TKWS_FAST_SCALAR 1
#define TKWS_GENERIC_IS_SCALAR 1
constexpr int kLanes = 4;
[[maybe_unused]] constexpr int kPwRows = 1;
[[maybe_unused]] constexpr int kPwVecs = 1;  // the scalar pointwise has its own tiles
#endif
constexpr const char* kIsaName = "generic";
#include "ops_fast_kernels.inc"
#undef TKWS_FAST_SCALAR
}  // namespace fast_generic

#ifndef TKWS_GENERIC_IS_SCALAR
// The same scalar forms on a SIMD build: a set no CPU picks by default (the generic one is
// faster there), kept so the kernel tests check on this machine what a Cortex-M runs.
namespace fast_scalar {
#define TKWS_FAST_SCALAR 1
constexpr int kLanes = 4;
[[maybe_unused]] constexpr int kPwRows = 1;
[[maybe_unused]] constexpr int kPwVecs = 1;  // the scalar pointwise has its own tiles
constexpr const char* kIsaName = "scalar";
#include "ops_fast_kernels.inc"
#undef TKWS_FAST_SCALAR
}  // namespace fast_scalar
#define TKWS_SCALAR_SET &fast_scalar::kKernels
#else
#define TKWS_SCALAR_SET nullptr
#endif

#ifdef TKWS_ISA_AVX2
TKWS_TARGET_BEGIN("avx2,fma")
namespace fast_avx2 {
constexpr int kLanes = 8;
constexpr int kPwRows = 4;  // 4 x 2 ymm accumulators + 2 weight vectors + broadcasts < 16 regs
constexpr int kPwVecs = 2;
constexpr const char* kIsaName = "avx2+fma";
#include "ops_fast_kernels.inc"
}  // namespace fast_avx2
TKWS_TARGET_END()
#endif

const FastKernels* const* fast_kernel_sets(int* count) {
#ifdef TKWS_ISA_AVX2
  static const isa::KernelSets<FastKernels> sets(
      isa::cpu_has_avx2(/*fma=*/true) ? &fast_avx2::kKernels : nullptr, fast_generic::kKernels,
      TKWS_SCALAR_SET);
#else
  static const isa::KernelSets<FastKernels> sets(nullptr, fast_generic::kKernels, TKWS_SCALAR_SET);
#endif
  return sets.get(count);
}

}  // namespace tkws
