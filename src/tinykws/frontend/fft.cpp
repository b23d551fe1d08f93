// RealFftBatch: plan construction and instruction-set dispatch; the kernels are in
// fft_kernels.inc (method and layout: fft.h).
#include "tinykws/frontend/fft.h"

#include <cmath>
#include <cstddef>
#include <numbers>

// x86 builds whose baseline lacks AVX2 compile the kernels a second time for AVX2 + FMA and
// choose at run time (common/isa_target.h, as the runtime's network kernels do).
#include "tinykws/common/isa_target.h"

namespace tkws {

// What the kernels read from a plan (they are free functions in per-ISA namespaces).
struct FftView {
  int n;
  int num_stages;
  const RealFftBatch::Stage* stages;
  const float* tw_re;
  const float* tw_im;
  const float* split_c;
  const float* split_s;
  float* work;
};

struct RealFftKernelAccess {
  static FftView view(RealFftBatch& p) {
    return FftView{p.n_,
                   static_cast<int>(p.stages_.size()),
                   p.stages_.data(),
                   p.tw_re_.data(),
                   p.tw_im_.data(),
                   p.split_c_.data(),
                   p.split_s_.data(),
                   p.work_.data()};
  }
};

namespace fft_generic {
#if defined(__AVX2__)
#define TKWS_FFT_VW 8
#else
#define TKWS_FFT_VW 4
#endif
#include "fft_kernels.inc"
#undef TKWS_FFT_VW
}  // namespace fft_generic

#ifdef TKWS_ISA_AVX2
TKWS_TARGET_BEGIN("avx2,fma")
namespace fft_avx2 {
#define TKWS_FFT_VW 8
#include "fft_kernels.inc"
#undef TKWS_FFT_VW
}  // namespace fft_avx2
TKWS_TARGET_END()
#endif

namespace {

// Radices of m: 4 while it divides, a leftover 2 merged with the last 4 into an 8 (one pass
// fewer; radix-8 everywhere measured no faster here: its 16 inputs do not fit the registers),
// then 3s and 5s; empty if m has another prime factor.
std::vector<int> factor(int m) {
  std::vector<int> r;
  while (m % 4 == 0) r.push_back(4), m /= 4;
  if (m % 2 == 0) {
    if (!r.empty()) {
      r.back() = 8;
    } else {
      r.push_back(2);
    }
    m /= 2;
  }
  while (m % 3 == 0) r.push_back(3), m /= 3;
  while (m % 5 == 0) r.push_back(5), m /= 5;
  if (m != 1) r.clear();
  return r;
}

}  // namespace

bool RealFftBatch::supported(int n) {
  if (n < 2 || n > 65536 || n % 2 != 0) return false;
  return n == 2 || !factor(n / 2).empty();
}

RealFftBatch::RealFftBatch(int n, bool generic_only) {
  if (!supported(n)) return;
  const int M = n / 2;
  const std::vector<int> radices = factor(M);  // empty for M == 1
  // Stage i works on sub-transforms of length len = M / (r_0 ... r_{i-1}).
  int len = M;
  for (int r : radices) {
    Stage st;
    st.radix = r;
    st.len = len;
    st.tw_off = static_cast<int>(tw_re_.size());
    const int m = len / r;
    for (int p = 0; p < m; ++p) {
      for (int j = 1; j < r; ++j) {
        // w_len^{p j} = e^{-2 pi i p j / len}; p j < len, so the angle is in (-2 pi, 0].
        const double a = -2.0 * std::numbers::pi * static_cast<double>(p * j) / len;
        tw_re_.push_back(static_cast<float>(std::cos(a)));
        tw_im_.push_back(static_cast<float>(std::sin(a)));
      }
    }
    stages_.push_back(st);
    len = m;
  }
  split_c_.resize(M + 1);
  split_s_.resize(M + 1);
  for (int k = 0; k <= M; ++k) {
    const double a = 2.0 * std::numbers::pi * k / n;
    split_c_[k] = static_cast<float>(0.5 * std::cos(a));
    split_s_[k] = static_cast<float>(-0.5 * std::sin(a));
  }
  split_c_[M] = -0.5f;  // k = M (Nyquist): exactly, so Im X_M comes out exactly 0
  split_s_[M] = 0.0f;
  work_.assign(static_cast<size_t>(n) * kLanes, 0.0f);
  kernel_ = &fft_generic::forward;
#ifdef TKWS_ISA_AVX2
  if (!generic_only && isa::cpu_has_avx2(/*fma=*/true)) {
    kernel_ = &fft_avx2::forward;
    avx2_ = true;
  }
#endif
  n_ = n;
}

void RealFftBatch::forward(float* data, float* re, float* im, int k_lo, int k_hi) {
  if (ok()) kernel_(*this, data, re, im, k_lo, k_hi);
}

}  // namespace tkws
