// The front end's steps after the FFT, on RealFftBatch::kLanes frames at once: every array is
// [..][kLanes] (row = bin, band or coefficient; lane = frame), so each step is plain vertical
// SIMD arithmetic. Compiled for the baseline and, on x86 builds without -mavx2, a second time
// for AVX2 + FMA (chosen at run time, like RealFftBatch). Internal to the front end.
#pragma once

namespace tkws {

struct LaneFeatureParams {
  int bin_lo = 0, bin_hi = 0;       // the bins some mel band uses: [bin_lo, bin_hi)
  bool power = false;               // |X|^2 instead of |X|
  int num_mel = 0;                  // M
  const int* band_start = nullptr;  // [M]: band m's first bin
  const int* band_off = nullptr;    // [M + 1]: band m's weights are band_w[off[m], off[m+1])
  const float* band_w = nullptr;    // float32 triangle weights, bins band_start[m], +1, ...
  float log_offset = 1e-6f;         // ln(mel + log_offset)
  int num_dct = 0;                  // K; 0 = no DCT (log-mel output)
  const float* dct = nullptr;       // [K][M] DCT-II matrix
};

// re, im: [num_bins][kLanes] spectrum; rows [bin_lo, bin_hi) of re become |X| (or |X|^2).
// mel:    [M][kLanes] out, ln(sum_i |X_i| W[i, m] + log_offset).
// coef:   [K][kLanes] out, coef_k = sum_m dct[k][m] mel_m (untouched when K = 0).
using LaneFeatureFn = void (*)(const LaneFeatureParams& p, float* re, const float* im, float* mel,
                               float* coef);

// The kernel for this CPU (generic_only: the baseline one, for tests).
LaneFeatureFn lane_feature_kernel(bool generic_only = false);

}  // namespace tkws
