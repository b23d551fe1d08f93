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
#include "tinykws/common/isa_target.h"

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

#ifdef TKWS_ISA_AVX2
TKWS_TARGET_BEGIN("avx2,fma")
namespace lanes_avx2 {
#define TKWS_LANES_VW 8
#include "lane_features_kernels.inc"
#undef TKWS_LANES_VW
}  // namespace lanes_avx2
TKWS_TARGET_END()
#endif

LaneFeatureFn lane_feature_kernel([[maybe_unused]] bool generic_only) {
#ifdef TKWS_ISA_AVX2
  if (!generic_only && isa::cpu_has_avx2(/*fma=*/true)) return &lanes_avx2::features;
#endif
  return &lanes_generic::features;
}

}  // namespace tkws
