// Fast int8 kernels (ops_int8.h, "Fast kernels"), compiled once per instruction set from
// ops_int8_fast_kernels.inc:
//  - int8_generic: the build's baseline (SSE2 on x86-64, NEON on AArch64, scalar elsewhere);
//  - int8_avx2 (x86 with GCC or Clang): AVX2, used when the CPU has it (there the
//    requantisation vectorises too: 64-bit lanes and per-lane shifts).
// Every sum is an exact int32 sum of the same products as the reference kernel's, and the
// requantisation is the reference's function in branch-free form: outputs are identical, bit
// for bit (tests/compress/int8_ops_test.cpp).
#include <algorithm>
#include <cstdint>

#include "tinykws/runtime/isa_dispatch.h"
#include "tinykws/runtime/ops.h"
#include "tinykws/runtime/ops_int8.h"

// The kernels pass vectors only between static inline helpers of one instruction set, never
// across an ABI boundary, so GCC's note about the AVX vector ABI does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tkws {

namespace int8_generic {
constexpr const char* kIsaName = "generic";
#include "ops_int8_fast_kernels.inc"
}  // namespace int8_generic

#ifdef TKWS_ISA_AVX2
TKWS_TARGET_BEGIN("avx2")
namespace int8_avx2 {
constexpr const char* kIsaName = "avx2";
#include "ops_int8_fast_kernels.inc"
}  // namespace int8_avx2
TKWS_TARGET_END()
#endif

const Int8FastKernels* const* int8_fast_kernel_sets(int* count) {
#ifdef TKWS_ISA_AVX2
  static const isa::KernelSets<Int8FastKernels> sets(
      isa::cpu_has_avx2(/*fma=*/false) ? &int8_avx2::kKernels : nullptr, int8_generic::kKernels);
#else
  static const isa::KernelSets<Int8FastKernels> sets(nullptr, int8_generic::kKernels);
#endif
  return sets.get(count);
}

Int8KernelFn Int8FastKernels::get(Int8FastKind k) const {
  switch (k) {
    case Int8FastKind::kConv2D:
      return conv2d;
    case Int8FastKind::kPointwise:
      return pointwise;
    case Int8FastKind::kDepthwise:
      return depthwise;
    case Int8FastKind::kDense:
      return dense;
  }
  return nullptr;
}

bool int8_fast_kind(OpType t, const Int8Args& a, Int8FastKind* kind) {
  switch (t) {
    case OpType::kConv2D:
      *kind = a.win.kh == 1 && a.win.kw == 1 && a.win.sh == 1 && a.win.sw == 1
                  ? Int8FastKind::kPointwise
                  : Int8FastKind::kConv2D;
      return true;
    case OpType::kDepthwiseConv2D:
      *kind = Int8FastKind::kDepthwise;
      return true;
    case OpType::kDense:
      *kind = Int8FastKind::kDense;
      return true;
    default:
      return false;
  }
}

Int8FastLayout int8_fast_layout(Int8FastKind k, const Int8Args& a) {
  Int8FastLayout l;
  const auto taps = static_cast<size_t>(a.win.kh) * static_cast<size_t>(a.win.kw);
  switch (k) {
    case Int8FastKind::kConv2D:
    case Int8FastKind::kPointwise:
      l.ldw = round_up8(a.out.c);
      l.weight_count = taps * static_cast<size_t>(a.in.c) * static_cast<size_t>(l.ldw);
      l.bias_count = static_cast<size_t>(l.ldw);
      break;
    case Int8FastKind::kDepthwise:
      l.ldw = round_up8(a.in.c);
      l.weight_count = taps * static_cast<size_t>(l.ldw);
      l.bias_count = static_cast<size_t>(l.ldw);
      break;
    case Int8FastKind::kDense:
      l.ldw = round_up8(static_cast<int32_t>(a.in.size()));
      l.weight_count = static_cast<size_t>(a.out.c) * static_cast<size_t>(l.ldw);
      l.bias_count = static_cast<size_t>(a.out.c);
      break;
  }
  return l;
}

void int8_fast_pack(Int8FastKind k, const Int8Args& a, const int8_t* w, const int32_t* b,
                    int16_t* wp, int32_t* bp) {
  const Int8FastLayout l = int8_fast_layout(k, a);
  std::fill(wp, wp + l.weight_count, int16_t{0});
  std::fill(bp, bp + l.bias_count, 0);
  const auto taps = static_cast<size_t>(a.win.kh) * static_cast<size_t>(a.win.kw);
  const auto ldw = static_cast<size_t>(l.ldw);
  switch (k) {
    case Int8FastKind::kConv2D:
    case Int8FastKind::kPointwise: {
      // [oc][ic][kh][kw] -> [kh][kw][ic][ldw]
      const auto oc = static_cast<size_t>(a.out.c), ic = static_cast<size_t>(a.in.c);
      for (size_t o = 0; o < oc; ++o)
        for (size_t i = 0; i < ic; ++i)
          for (size_t t = 0; t < taps; ++t) wp[(t * ic + i) * ldw + o] = w[(o * ic + i) * taps + t];
      if (b) std::copy(b, b + oc, bp);
      break;
    }
    case Int8FastKind::kDepthwise: {
      // [c][1][kh][kw] -> [kh][kw][ldw]
      const auto c = static_cast<size_t>(a.in.c);
      for (size_t ch = 0; ch < c; ++ch)
        for (size_t t = 0; t < taps; ++t) wp[t * ldw + ch] = w[ch * taps + t];
      if (b) std::copy(b, b + c, bp);
      break;
    }
    case Int8FastKind::kDense: {
      // [out][n_in] -> rows of ldw
      const auto units = static_cast<size_t>(a.out.c), n_in = a.in.size();
      for (size_t o = 0; o < units; ++o)
        for (size_t i = 0; i < n_in; ++i) wp[o * ldw + i] = w[o * n_in + i];
      if (b) std::copy(b, b + units, bp);
      break;
    }
  }
}

}  // namespace tkws
