// Fast int8 kernels (ops_int8.h, "Fast kernels"), compiled once per instruction set from
// ops_int8_fast_kernels.inc:
//  - int8_generic: the build's baseline (SSE2 on x86-64, NEON on AArch64, scalar elsewhere):
//    weight rows (Int8Packing::kRows: int16; kRows8: int8 in the scalar set), loops the compiler
//    vectorises;
//  - int8_avx2 (x86 with GCC or Clang): AVX2, used when the CPU has it: 16-bit multiply-adds
//    (_mm256_madd_epi16) on paired weights (Int8Packing::kPairs) and a vectorised
//    requantisation, in intrinsics (TKWS_INT8_AVX2; a baseline that has AVX2 itself uses them,
//    and pairs, in its generic set).
// Each set names its packing in its Int8FastKernels; Int8Network packs the weights for it.
// Every sum is an exact int32 sum of the same products as the reference kernel's, and the
// requantisation is the reference's function in branch-free form: outputs are identical, bit
// for bit (tests/compress/int8_ops_test.cpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "tinykws/runtime/isa_dispatch.h"
#include "tinykws/runtime/ops.h"
#include "tinykws/runtime/ops_int8.h"

// The kernels pass vectors only between static inline helpers of one instruction set, never
// across an ABI boundary, so GCC's note about the AVX vector ABI does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tkws {

namespace int8_generic {
constexpr const char* kIsaName = "generic";
#ifdef __AVX2__
#define TKWS_INT8_AVX2 1
#endif
// No SIMD (a Cortex-M4): the scalar forms of conv, pointwise and depthwise.
#if !defined(__SSE2__) && !defined(__ARM_NEON)
#define TKWS_INT8_SCALAR 1
#define TKWS_INT8_GENERIC_IS_SCALAR 1
#endif
#include "ops_int8_fast_kernels.inc"
#undef TKWS_INT8_AVX2
#undef TKWS_INT8_SCALAR
}  // namespace int8_generic

#ifndef TKWS_INT8_GENERIC_IS_SCALAR
// The same scalar forms on a SIMD build: never picked by default, kept so the bit-exactness
// tests check on this machine what a Cortex-M runs.
namespace int8_scalar {
constexpr const char* kIsaName = "scalar";
#define TKWS_INT8_SCALAR 1
#include "ops_int8_fast_kernels.inc"
#undef TKWS_INT8_SCALAR
}  // namespace int8_scalar
#define TKWS_INT8_SCALAR_SET &int8_scalar::kKernels
#else
#define TKWS_INT8_SCALAR_SET nullptr
#endif

#ifdef TKWS_ISA_AVX2
TKWS_TARGET_BEGIN("avx2")
namespace int8_avx2 {
constexpr const char* kIsaName = "avx2";
#define TKWS_INT8_AVX2 1
#include "ops_int8_fast_kernels.inc"
#undef TKWS_INT8_AVX2
}  // namespace int8_avx2
TKWS_TARGET_END()
#endif

const Int8FastKernels* const* int8_fast_kernel_sets(int* count) {
#ifdef TKWS_ISA_AVX2
  static const isa::KernelSets<Int8FastKernels> sets(
      isa::cpu_has_avx2(/*fma=*/false) ? &int8_avx2::kKernels : nullptr, int8_generic::kKernels,
      TKWS_INT8_SCALAR_SET);
#else
  static const isa::KernelSets<Int8FastKernels> sets(nullptr, int8_generic::kKernels,
                                                     TKWS_INT8_SCALAR_SET);
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

namespace {

// Rows of a Conv2D / pointwise / depthwise layout: K products (taps for depthwise), even with
// pairs.
size_t packed_rows(Int8Packing p, size_t k) {
  return p == Int8Packing::kPairs ? k + (k & 1) : k;
}

// Bytes per packed weight: int8 for the rows8 packing and for Dense (tiny), int16 otherwise.
size_t weight_bytes(Int8FastKind k, Int8Packing p) {
  return p == Int8Packing::kRows8 || k == Int8FastKind::kDense ? 1 : 2;
}

// Stores weight v of product (tap) k, output channel o.
void store_weight(Int8Packing p, void* wp, size_t ldw, size_t k, size_t o, int8_t v) {
  if (p == Int8Packing::kRows8) {
    static_cast<int8_t*>(wp)[k * ldw + o] = v;
    return;
  }
  if (p == Int8Packing::kRows) {
    static_cast<int16_t*>(wp)[k * ldw + o] = v;
    return;
  }
  // Half k % 2 (0: first, low; 1: second, high) of the int16 pair of (k / 2, o), read as one
  // int32 (the fast kernels' view): first + second * 2^16 in the native byte order.
  int16_t* at = static_cast<int16_t*>(wp) + (k / 2 * ldw + o) * 2;
  uint32_t pair = 0;
  std::memcpy(&pair, at, sizeof pair);
  const uint32_t shift = k % 2 ? 16u : 0u;
  pair = (pair & ~(0xFFFFu << shift)) | (static_cast<uint32_t>(static_cast<uint16_t>(v)) << shift);
  std::memcpy(at, &pair, sizeof pair);
}

}  // namespace

void int8_requant_pack(const int32_t* mult, const int32_t* shift, int32_t n, int32_t ldw,
                       Int8RequantBlock* blocks) {
  for (int32_t c = 0; c < ldw; ++c) {
    Int8RequantBlock& b = blocks[c / 8];
    const int32_t j = c % 8;
    const int32_t m0 = c < n ? mult[c] : int32_t{1} << 30;
    const int32_t right = c < n && shift[c] < 0 ? -shift[c] : 0;
    b.m0[j] = m0;
    b.m0_odd[j % 2 ? j - 1 : j + 1] = j % 2 ? m0 : 0;
    b.mask[j] = static_cast<int32_t>((uint32_t{1} << right) - 1u);
    b.half[j] = b.mask[j] >> 1;
    b.right[j] = right;
  }
}

Int8FastLayout int8_fast_layout(Int8FastKind k, Int8Packing p, const Int8Args& a) {
  Int8FastLayout l;
  l.weight_bytes = weight_bytes(k, p);
  const auto taps = static_cast<size_t>(a.win.kh) * static_cast<size_t>(a.win.kw);
  switch (k) {
    case Int8FastKind::kConv2D:
    case Int8FastKind::kPointwise:
      l.ldw = round_up8(a.out.c);
      l.weight_count =
          packed_rows(p, taps * static_cast<size_t>(a.in.c)) * static_cast<size_t>(l.ldw);
      l.bias_count =
          static_cast<size_t>(l.ldw) * (p == Int8Packing::kPairs ? 1 + kInt8RequantVecs : 1);
      break;
    case Int8FastKind::kDepthwise:
      l.ldw = round_up8(a.in.c);
      l.weight_count = packed_rows(p, taps) * static_cast<size_t>(l.ldw);
      l.bias_count =
          static_cast<size_t>(l.ldw) * (p == Int8Packing::kPairs ? 1 + kInt8RequantVecs : 1);
      break;
    case Int8FastKind::kDense:
      l.ldw = round_up8(static_cast<int32_t>(a.in.size()));
      l.weight_count = static_cast<size_t>(a.out.c) * static_cast<size_t>(l.ldw);
      l.bias_count = static_cast<size_t>(a.out.c);
      break;
  }
  return l;
}

void int8_fast_pack(Int8FastKind k, Int8Packing p, const Int8Args& a, const int8_t* w,
                    const int32_t* b, void* wp, int32_t* bp) {
  const Int8FastLayout l = int8_fast_layout(k, p, a);
  std::memset(wp, 0, l.weight_count * l.weight_bytes);
  std::fill(bp, bp + l.bias_count, 0);
  const auto taps = static_cast<size_t>(a.win.kh) * static_cast<size_t>(a.win.kw);
  const auto ldw = static_cast<size_t>(l.ldw);
  switch (k) {
    case Int8FastKind::kConv2D:
    case Int8FastKind::kPointwise: {
      // [oc][ic][kh][kw] -> products k = (ky * kw + kx) * ic + ci: [k][ldw] or [k / 2][ldw][2]
      const auto oc = static_cast<size_t>(a.out.c), ic = static_cast<size_t>(a.in.c);
      for (size_t o = 0; o < oc; ++o)
        for (size_t i = 0; i < ic; ++i)
          for (size_t t = 0; t < taps; ++t)
            store_weight(p, wp, ldw, t * ic + i, o, w[(o * ic + i) * taps + t]);
      if (b) std::copy(b, b + oc, bp);
      if (p == Int8Packing::kPairs)
        int8_requant_pack(a.mult, a.shift, a.out.c, l.ldw,
                          reinterpret_cast<Int8RequantBlock*>(bp + l.ldw));
      break;
    }
    case Int8FastKind::kDepthwise: {
      // [c][1][kh][kw] -> taps t = ky * kw + kx: [t][ldw] or [t / 2][ldw][2]
      const auto c = static_cast<size_t>(a.in.c);
      for (size_t ch = 0; ch < c; ++ch)
        for (size_t t = 0; t < taps; ++t) store_weight(p, wp, ldw, t, ch, w[ch * taps + t]);
      if (b) std::copy(b, b + c, bp);
      if (p == Int8Packing::kPairs)
        int8_requant_pack(a.mult, a.shift, a.in.c, l.ldw,
                          reinterpret_cast<Int8RequantBlock*>(bp + l.ldw));
      break;
    }
    case Int8FastKind::kDense: {
      // [out][n_in] -> rows of ldw
      const auto units = static_cast<size_t>(a.out.c), n_in = a.in.size();
      for (size_t o = 0; o < units; ++o)
        std::copy(w + o * n_in, w + (o + 1) * n_in, static_cast<int8_t*>(wp) + o * ldw);
      if (b) std::copy(b, b + units, bp);
      break;
    }
  }
}

}  // namespace tkws
