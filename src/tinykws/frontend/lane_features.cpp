// lane_features.h: per-ISA builds of lane_features_kernels.inc and the run-time choice.
#include "tinykws/frontend/lane_features.h"

#include <cmath>

#include "tinykws/frontend/fast_log.h"
#include "tinykws/frontend/fft.h"

#if defined(__SSE2__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

// As fft.cpp: x86 builds without -mavx2 also compile an AVX2 + FMA set.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(__AVX2__)
#define TKWS_LANES_AVX2 1
#endif

namespace tkws {

namespace lanes_generic {
#if defined(__AVX2__)
#define TKWS_LANES_VW 8
#else
#define TKWS_LANES_VW 4
#endif
#include "lane_features_kernels.inc"
#undef TKWS_LANES_VW
}  // namespace lanes_generic

#ifdef TKWS_LANES_AVX2
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
namespace lanes_avx2 {
#define TKWS_LANES_VW 8
#include "lane_features_kernels.inc"
#undef TKWS_LANES_VW
}  // namespace lanes_avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

LaneFeatureFn lane_feature_kernel([[maybe_unused]] bool generic_only) {
#ifdef TKWS_LANES_AVX2
  __builtin_cpu_init();
  if (!generic_only && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return &lanes_avx2::features;
#endif
  return &lanes_generic::features;
}

}  // namespace tkws
