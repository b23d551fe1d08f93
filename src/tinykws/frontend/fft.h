// Batched real FFT for the front end: kLanes frames at once, one frame per SIMD lane, so every
// butterfly is plain vertical arithmetic (no shuffles) and the same C++ runs vectorised on
// SSE2, AVX2 and NEON, or as scalar code anywhere else.
//
// Method: the real DFT of length n (even) from one complex DFT of length M = n / 2 of
// z_t = x_2t + i x_2t+1, then the split step
//   X_k = E_k + w^k O_k,  E_k = (Z_k + conj Z_M-k) / 2,  O_k = (Z_k - conj Z_M-k) / 2i,
//   w = e^{-2 pi i / n},  k = 0..M  (Z_M = Z_0).
// The complex DFT is a Stockham (self-sorting, so no bit reversal) decimation-in-frequency
// FFT with radix-8, 4, 2, 3 and 5 stages on structure-of-arrays buffers (re and im apart).
// Lengths: n even with n / 2 = 2^a 3^b 5^c (512, 640 = 2 * 320, 1024, 400, 480, ...); for
// others supported() is false and the caller keeps using kissfft.
//
// Sources (textbook methods, written from the formulas above): Stockham autosort FFT as in
// C. Van Loan, Computational Frameworks for the Fast Fourier Transform (SIAM 1992); the real
// transform from a half-length complex one as in Press et al., Numerical Recipes, "FFT of
// real functions".
//
// On x86 builds without -mavx2 the kernels are compiled a second time for AVX2 + FMA and
// picked at construction when the CPU has them.
#pragma once
#include <vector>

namespace tkws {

class RealFftBatch {
 public:
  static constexpr int kLanes = 8;  // frames per call (8 floats = one AVX register)

  // n even, 2 <= n <= 65536, n / 2 = 2^a 3^b 5^c.
  static bool supported(int n);

  // Precomputes the plan (twiddles in float64, stored as float32) and the scratch buffer.
  // An unsupported n gives ok() == false. generic_only: use the baseline kernels even on a CPU
  // with AVX2 (so tests cover both sets).
  explicit RealFftBatch(int n, bool generic_only = false);
  bool uses_avx2() const { return avx2_; }

  bool ok() const { return n_ > 0; }
  int size() const { return n_; }

  // Unscaled forward DFT X_k = sum_t x_t e^{-2 pi i k t / n} of kLanes frames at once.
  // data: [n][kLanes] float, data[t * kLanes + l] = sample t of frame l; used as scratch
  //       (its contents are undefined afterwards).
  // re, im: [n / 2 + 1][kLanes], bin k of frame l at [k * kLanes + l]; only bins
  //       [k_lo, k_hi) are written (0 <= k_lo <= k_hi <= n / 2 + 1).
  // Allocates nothing; not reentrant (one object per thread: it owns a scratch buffer).
  void forward(float* data, float* re, float* im, int k_lo, int k_hi);
  void forward(float* data, float* re, float* im) { forward(data, re, im, 0, n_ / 2 + 1); }

  // One stage of the complex FFT: radix r, sub-transform length len (before the stage),
  // twiddles w_len^{p j} for p < len / r, j = 1..r-1 at tw_re/tw_im[tw_off + p (r - 1) + j - 1].
  struct Stage {
    int radix = 0;
    int len = 0;
    int tw_off = 0;
  };

 private:
  int n_ = 0;
  bool avx2_ = false;
  std::vector<Stage> stages_;
  std::vector<float> tw_re_, tw_im_;      // all stages' twiddles (see Stage)
  std::vector<float> split_c_, split_s_;  // [n / 2 + 1]: 0.5 cos(2 pi k / n), -0.5 sin(...)
  std::vector<float> work_;               // [n][kLanes] scratch (ping-pong with data)
  void (*kernel_)(RealFftBatch&, float*, float*, float*, int, int) = nullptr;

  friend struct RealFftKernelAccess;
};

}  // namespace tkws
