// Feature front end with TensorFlow tf.signal semantics (docs/frontend.md):
//   samples (int16 / 32768) -> x 32768 / pcm_divisor -> frames of L samples every S samples
//   (no end padding) -> periodic Hann -> zero-pad to fft_length -> unscaled real DFT
//   -> |X| or |X|^2 -> mel (sparse triangular weights) -> ln(mel + log_offset) -> DCT-II.
// FFT: even fft_length (always 2 * 2^a 3^b 5^c after check()) uses RealFftBatch (fft.h):
// kLanes = 8 frames per call, one per SIMD lane, and the steps after it (|X|, mel, log, DCT)
// run on the same [..][kLanes] layout, so every loop is vectorised across frames. Odd
// lengths (and any even one RealFftBatch does not support, and every length in a
// TINYKWS_SMALL_RAM build) use kissfft one frame at a time:
// kiss_fftr for even lengths, the complex kiss_fft for odd ones. ln() is log_approx()
// (fast_log.h, <= 2 ulp). Everything is precomputed in the constructor; compute() allocates
// nothing, does no I/O and cannot fail.
#include "tinykws/frontend/frontend.h"

#include "tinykws/frontend/fast_log.h"
#include "tinykws/frontend/fft.h"
#include "tinykws/frontend/lane_features.h"

#include <kissfft/kiss_fft.h>
#include <kissfft/kiss_fftr.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numbers>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace tkws {

namespace {

// tf.linspace in float32: start + i * ((stop - start) / (num - 1)), endpoints exact.
float linspace_at(float start, float stop, int num, int i) {
  if (i == 0) return start;
  if (i == num - 1) return stop;
  const float delta = (stop - start) / static_cast<float>(num - 1);
  return start + delta * static_cast<float>(i);
}

// x[i] = sqrt(x[i]) for n values >= 0. std::sqrt must keep errno semantics (GCC's default
// -fmath-errno), which stops the compiler from vectorising it; sqrtps / vsqrtq are correctly
// rounded like the scalar instruction, so the results are bit-identical on every path.
inline void sqrt_in_place(float* x, int n) {
  int i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
#elif defined(__aarch64__)
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vsqrtq_f32(vld1q_f32(x + i)));
#endif
  for (; i < n; ++i) x[i] = std::sqrt(x[i]);
}

constexpr int kLanes = RealFftBatch::kLanes;
// A build for a board short of RAM (TINYKWS_SMALL_RAM, runtime/interpreter.h) sends every
// frame through kissfft on its own, without the batch's [N][kLanes] buffers and scratch
// (about 80 kB for the default front end).
#ifdef TINYKWS_SMALL_RAM
constexpr bool kBatchedFft = false;
#else
constexpr bool kBatchedFft = true;
#endif

// Windowed frames, transposed for RealFftBatch: dst[t * kLanes + l] = src[l][t] * win[t] for
// t < length, l < kLanes. src[l] points at frame l's first sample (a zero row for lanes with no
// frame). SSE2: 4 x 4 blocks (4 frames x 4 samples) transposed in registers; else scalar.
inline void load_frames(const float* const* src, const float* win, int length, float* dst) {
  int t = 0;
#if defined(__SSE2__)
  static_assert(kLanes % 4 == 0);
  for (; t + 4 <= length; t += 4) {
    const __m128 w = _mm_loadu_ps(win + t);
    for (int g = 0; g < kLanes; g += 4) {
      __m128 r0 = _mm_mul_ps(_mm_loadu_ps(src[g] + t), w);
      __m128 r1 = _mm_mul_ps(_mm_loadu_ps(src[g + 1] + t), w);
      __m128 r2 = _mm_mul_ps(_mm_loadu_ps(src[g + 2] + t), w);
      __m128 r3 = _mm_mul_ps(_mm_loadu_ps(src[g + 3] + t), w);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_j = sample t + j of frames g..g+3
      _mm_storeu_ps(dst + (t + 0) * kLanes + g, r0);
      _mm_storeu_ps(dst + (t + 1) * kLanes + g, r1);
      _mm_storeu_ps(dst + (t + 2) * kLanes + g, r2);
      _mm_storeu_ps(dst + (t + 3) * kLanes + g, r3);
    }
  }
#endif
  for (; t < length; ++t)
    for (int l = 0; l < kLanes; ++l) dst[t * kLanes + l] = src[l][t] * win[t];
}

}  // namespace

float hz_to_mel(float hz) {
  return 1127.0f * std::log(1.0f + hz / 700.0f);
}

float mel_to_hz(float mel) {
  return 700.0f * (std::exp(mel / 1127.0f) - 1.0f);
}

namespace {

// tf.signal.linear_to_mel_weight_matrix's weights one at a time (float32 throughout, as tf),
// so the front end keeps only each band's nonzero run without building the dense matrix.
class MelTriangles {
 public:
  MelTriangles(int num_mel_bins, int num_bins, int sample_rate, float lower_hz, float upper_hz)
      : edges_(num_mel_bins + 2), bin_mel_(num_bins > 0 ? num_bins : 0) {
    const float nyquist = static_cast<float>(sample_rate) / 2.0f;  // Hz
    const float mel_lo = hz_to_mel(lower_hz);
    const float mel_hi = hz_to_mel(upper_hz);
    // Band edges E[0..M+1] in mel; band m is the triangle E[m], E[m+1], E[m+2].
    for (int j = 0; j < num_mel_bins + 2; ++j)
      edges_[j] = linspace_at(mel_lo, mel_hi, num_mel_bins + 2, j);
    for (int i = 0; i < num_bins; ++i)
      bin_mel_[i] = hz_to_mel(linspace_at(0.0f, nyquist, num_bins, i));  // bin i centre
  }
  // Weight of bin i in band m; the DC bin's are zero (tf's bands_to_zero = 1).
  float weight(int i, int m) const {
    if (i == 0) return 0.0f;
    const float mel_f = bin_mel_[i];
    const float rising = (mel_f - edges_[m]) / (edges_[m + 1] - edges_[m]);
    const float falling = (edges_[m + 2] - mel_f) / (edges_[m + 2] - edges_[m + 1]);
    return std::max(0.0f, std::min(rising, falling));
  }

 private:
  std::vector<float> edges_, bin_mel_;
};

}  // namespace

std::vector<float> mel_weight_matrix(int num_mel_bins, int num_bins, int sample_rate,
                                     float lower_hz, float upper_hz) {
  // [num_bins][num_mel_bins], float32 throughout, as tf.signal.linear_to_mel_weight_matrix.
  const int m_count = num_mel_bins;
  std::vector<float> w(static_cast<size_t>(num_bins) * m_count, 0.0f);
  if (num_mel_bins < 1 || num_bins < 2) return w;
  const MelTriangles mel(num_mel_bins, num_bins, sample_rate, lower_hz, upper_hz);
  for (int i = 1; i < num_bins; ++i)
    for (int m = 0; m < m_count; ++m) w[static_cast<size_t>(i) * m_count + m] = mel.weight(i, m);
  return w;
}

std::vector<float> hann_window(int length) {
  // Periodic Hann (tf.signal.hann_window, periodic=True): w[n] = 0.5 - 0.5 cos(2 pi n / D),
  // D = L for even L, D = L - 1 for odd L. Computed in double, stored as float32.
  std::vector<float> w(length > 0 ? length : 0);
  if (length == 1) w[0] = 1.0f;  // tf's special case (never used: check() needs L >= 2)
  if (length < 2) return w;
  const double d = (length % 2 == 0) ? length : length - 1;
  for (int n = 0; n < length; ++n)
    w[n] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * n / d));
  return w;
}

struct Frontend::Impl {
  FrontendConfig cfg;
  int frame_length = 0;  // L, samples
  int frame_step = 0;    // S, samples
  int fft_length = 0;    // N >= L
  int num_bins = 0;      // N / 2 + 1
  int num_mel = 0;       // M
  int num_mfcc = 0;      // K (0 for log-mel output)
  int frames = 0;
  bool mfcc = false;
  bool power = false;
  float log_offset = 1e-6f;

  std::vector<float> window;  // [L], periodic Hann x (32768 / pcm_divisor)

  // FFT state. Even N: kiss_fftr, real frame [N] -> spectrum [N/2 + 1].
  // Odd N: complex kiss_fft, cpx_in [N] (imaginary parts 0) -> spectrum [N] (first N/2 + 1 used).
  // Unscaled forward DFT X_k = sum_n x_n e^{-2 pi i k n / N}, as numpy.fft.rfft / tf.signal.stft.
  kiss_fftr_cfg fftr = nullptr;
  kiss_fft_cfg fftc = nullptr;
  std::vector<float> frame;            // [N] (even N only), windowed frame; [L, N) stays zero
  std::vector<kiss_fft_cpx> cpx_in;    // [N] (odd N only), same layout as frame, imag = 0
  std::vector<kiss_fft_cpx> spectrum;  // [N/2 + 1] (even N) or [N] (odd N)
  std::vector<float> mag;              // [num_bins], |X| or |X|^2; only [bin_lo, bin_hi) used

  // Sparse mel matrix: band m has weights band_w[band_off[m] .. band_off[m+1]) for the
  // contiguous bins band_start[m] ... (its triangle's support; empty for a band no bin hits).
  std::vector<int> band_start;  // [M]
  std::vector<int> band_off;    // [M + 1]
  std::vector<float> band_w;    // [sum of band widths], float32 weights (no area normalisation)
  int bin_lo = 0, bin_hi = 0;   // union of all band supports: [bin_lo, bin_hi)

  // Batched path (even N): kLanes frames at a time; lane l holds frame t0 + l.
  std::unique_ptr<RealFftBatch> batch;
  std::vector<float> bdata;     // [N][kLanes] windowed frames (RealFftBatch input / scratch)
  std::vector<float> bre, bim;  // [num_bins][kLanes] spectrum; re becomes |X| or |X|^2
  std::vector<float> bmel;      // [M][kLanes] ln(mel + log_offset)
  std::vector<float> bcoef;     // [K][kLanes] MFCC
  LaneFeatureFn lane_features = nullptr;  // |X|, mel, log, DCT on [..][kLanes] arrays
  std::vector<float> zeros;               // [L] source row for lanes past the last frame

  std::vector<float> logmel;  // [M], one frame's ln(mel + log_offset) (MFCC path)
  std::vector<float> dct;     // [K][M], sqrt(2/M) cos(pi k (2n + 1) / (2M))

  bool ready = false;  // the config passed check() and the FFT plan was allocated

  // Stores c; builds everything only if c.check() is empty.
  explicit Impl(const FrontendConfig& c);
  ~Impl() {
    if (fftr) kiss_fftr_free(fftr);
    if (fftc) kiss_fft_free(fftc);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void compute(const float* samples, int n_frames, float* out);
  void compute_batched(const float* samples, int n_frames, float* out);
};

Frontend::Impl::Impl(const FrontendConfig& c) : cfg(c) {
  if (!c.check().empty()) return;
  frame_length = c.frame_length;
  frame_step = c.frame_step;
  fft_length = c.effective_fft_length();
  num_bins = c.num_bins();
  num_mel = c.num_mel_bins;
  mfcc = c.kind == FeatureKind::kMfcc;
  num_mfcc = mfcc ? c.num_mfcc : 0;
  frames = c.num_frames();
  power = c.spectrum == SpectrumKind::kPower;
  log_offset = c.log_offset;

  // Window with the PCM rescale folded in: samples arrive as s / 32768, the features want
  // s / pcm_divisor (docs/frontend.md; exactly 1.0 for the default divisor).
  window = hann_window(frame_length);
  const float scale = 32768.0f / cfg.pcm_divisor;
  for (float& v : window) v *= scale;

  if (kBatchedFft && RealFftBatch::supported(fft_length)) {
    batch = std::make_unique<RealFftBatch>(fft_length);
    if (!batch->ok()) return;
    bdata.assign(static_cast<size_t>(fft_length) * kLanes, 0.0f);
    bre.assign(static_cast<size_t>(num_bins) * kLanes, 0.0f);
    bim.assign(static_cast<size_t>(num_bins) * kLanes, 0.0f);
    bmel.assign(static_cast<size_t>(num_mel) * kLanes, 0.0f);
    bcoef.assign(static_cast<size_t>(num_mfcc) * kLanes, 0.0f);
    lane_features = lane_feature_kernel();
    zeros.assign(frame_length, 0.0f);
  } else if (fft_length % 2 == 0) {
    fftr = kiss_fftr_alloc(fft_length, 0, nullptr, nullptr);
    if (!fftr) return;
    frame.assign(fft_length, 0.0f);
    spectrum.assign(num_bins, kiss_fft_cpx{0.0f, 0.0f});
  } else {
    // Separate input and output buffers: an in-place kiss_fft would malloc a scratch buffer.
    fftc = kiss_fft_alloc(fft_length, 0, nullptr, nullptr);
    if (!fftc) return;
    cpx_in.assign(fft_length, kiss_fft_cpx{0.0f, 0.0f});
    spectrum.assign(fft_length, kiss_fft_cpx{0.0f, 0.0f});
  }
  if (!batch) mag.assign(num_bins, 0.0f);

  // Each band's nonzero run of mel_weight_matrix's column (without building the matrix). A
  // triangle's support (E[m], E[m+2]) is an interval and mel(f_i) increases with i, so the
  // run is contiguous.
  const MelTriangles mel(num_mel, num_bins, cfg.sample_rate, cfg.lower_hz, cfg.upper_hz);
  band_start.assign(num_mel, 0);
  band_off.assign(num_mel + 1, 0);
  bin_lo = num_bins;
  bin_hi = 0;
  for (int m = 0; m < num_mel; ++m) {
    int first = -1, last = -1;
    for (int i = 0; i < num_bins; ++i) {
      if (mel.weight(i, m) > 0.0f) {
        if (first < 0) first = i;
        last = i;
      }
    }
    band_off[m] = static_cast<int>(band_w.size());
    if (first < 0) continue;  // no bin centre falls inside this band: it stays 0
    band_start[m] = first;
    for (int i = first; i <= last; ++i) band_w.push_back(mel.weight(i, m));
    bin_lo = std::min(bin_lo, first);
    bin_hi = std::max(bin_hi, last + 1);
  }
  band_off[num_mel] = static_cast<int>(band_w.size());
  if (bin_hi <= bin_lo) bin_lo = bin_hi = 0;

  if (mfcc) {
    // tf.signal.mfccs_from_log_mel_spectrograms: DCT-II scaled by sqrt(2/M) for every k,
    // so c0 is sqrt(2) larger than an orthonormal DCT's. Keep the first K rows.
    logmel.assign(num_mel, 0.0f);
    dct.assign(static_cast<size_t>(num_mfcc) * num_mel, 0.0f);
    const double norm = std::sqrt(2.0 / num_mel);
    for (int k = 0; k < num_mfcc; ++k)
      for (int n = 0; n < num_mel; ++n)
        dct[static_cast<size_t>(k) * num_mel + n] = static_cast<float>(
            norm * std::cos(std::numbers::pi * k * (2 * n + 1) / (2.0 * num_mel)));
  }
  ready = true;
}

// kLanes frames per step, every array [..][kLanes] (lane l = frame t0 + l).
void Frontend::Impl::compute_batched(const float* samples, int n_frames, float* out) {
  const int nf = num_mfcc > 0 ? num_mfcc : num_mel;  // features per frame
  LaneFeatureParams params;
  params.bin_lo = bin_lo, params.bin_hi = bin_hi, params.power = power;
  params.num_mel = num_mel, params.band_start = band_start.data();
  params.band_off = band_off.data(), params.band_w = band_w.data();
  params.log_offset = log_offset;
  params.num_dct = num_mfcc, params.dct = dct.data();
  float* data = bdata.data();
  float* re = bre.data();
  float* im = bim.data();
  float* mel = bmel.data();
  for (int t0 = 0; t0 < n_frames; t0 += kLanes) {
    const int nb = std::min(kLanes, n_frames - t0);  // frames in this step
    const float* src[kLanes];
    for (int l = 0; l < kLanes; ++l)
      src[l] = l < nb ? samples + static_cast<size_t>(t0 + l) * frame_step : zeros.data();
    load_frames(src, window.data(), frame_length, data);
    // Zero padding [L, N): re-written every step, the FFT uses data as scratch.
    std::fill(data + static_cast<size_t>(frame_length) * kLanes,
              data + static_cast<size_t>(fft_length) * kLanes, 0.0f);
    batch->forward(data, re, im, bin_lo, bin_hi);
    // |X|, mel, ln(mel + log_offset), DCT: lane_features.h.
    lane_features(params, re, im, mel, bcoef.data());
    if (mfcc) {
      for (int k = 0; k < num_mfcc; ++k) {
        const float* c = bcoef.data() + static_cast<size_t>(k) * kLanes;
        for (int l = 0; l < nb; ++l) out[static_cast<size_t>(t0 + l) * nf + k] = c[l];
      }
    } else {
      for (int l = 0; l < nb; ++l)
        for (int m = 0; m < num_mel; ++m)
          out[static_cast<size_t>(t0 + l) * nf + m] = mel[m * kLanes + l];
    }
  }
}

void Frontend::Impl::compute(const float* samples, int n_frames, float* out) {
  if (batch) {
    compute_batched(samples, n_frames, out);
    return;
  }
  const int nf = num_mfcc > 0 ? num_mfcc : num_mel;  // features per frame
  const float* win = window.data();
  float* fr = frame.data();
  float* mg = mag.data();
  const kiss_fft_cpx* spec = spectrum.data();
  for (int t = 0; t < n_frames; ++t) {
    const float* x = samples + static_cast<size_t>(t) * frame_step;
    // Windowed frame, zero-padded to N (the tail [L, N) was zeroed in the constructor).
    if (fftr) {
      for (int n = 0; n < frame_length; ++n) fr[n] = x[n] * win[n];
      kiss_fftr(fftr, fr, spectrum.data());
    } else {
      kiss_fft_cpx* in = cpx_in.data();
      for (int n = 0; n < frame_length; ++n) in[n].r = x[n] * win[n];
      kiss_fft(fftc, in, spectrum.data());
    }
    // |X_i|^2, then |X_i| unless the config asks for power; only the bins some band uses.
    for (int i = bin_lo; i < bin_hi; ++i) mg[i] = spec[i].r * spec[i].r + spec[i].i * spec[i].i;
    if (!power) sqrt_in_place(mg + bin_lo, bin_hi - bin_lo);
    // mel_m = sum_i |X_i| W[i, m] over band m's bins; then ln(mel_m + log_offset).
    float* lm = mfcc ? logmel.data() : out + static_cast<size_t>(t) * nf;
    for (int m = 0; m < num_mel; ++m) {
      const float* bw = band_w.data() + band_off[m];
      const float* bx = mg + band_start[m];
      const int width = band_off[m + 1] - band_off[m];
      float acc = 0.0f;
      for (int j = 0; j < width; ++j) acc += bw[j] * bx[j];
      lm[m] = acc;
    }
    log_offset_in_place(lm, num_mel, log_offset);
    if (mfcc) {
      float* o = out + static_cast<size_t>(t) * nf;
      for (int k = 0; k < num_mfcc; ++k) {
        const float* row = dct.data() + static_cast<size_t>(k) * num_mel;
        float acc = 0.0f;
        for (int n = 0; n < num_mel; ++n) acc += row[n] * lm[n];
        o[k] = acc;
      }
    }
  }
}

Frontend::Frontend(const FrontendConfig& cfg) : impl_(std::make_unique<Impl>(cfg)) {}
Frontend::~Frontend() = default;
Frontend::Frontend(Frontend&&) noexcept = default;
Frontend& Frontend::operator=(Frontend&&) noexcept = default;

bool Frontend::ok() const {
  return impl_ != nullptr && impl_->ready;
}

// The config as given (also when it failed check()); a moved-from Frontend reports defaults.
const FrontendConfig& Frontend::config() const {
  static const FrontendConfig kDefault{};
  return impl_ ? impl_->cfg : kDefault;
}

// Both 0 when !ok(): an unusable Frontend produces an empty [0][0] output.
int Frontend::num_frames() const {
  return ok() ? impl_->frames : 0;
}

int Frontend::num_features() const {
  return ok() ? impl_->cfg.num_features() : 0;
}

void Frontend::compute(const float* samples, float* out) {
  // An unusable Frontend (ok() == false) writes nothing: num_frames() * num_features() == 0.
  if (ok()) impl_->compute(samples, impl_->frames, out);
}

void Frontend::compute_frames(const float* samples, int n, float* out) {
  if (ok() && n > 0) impl_->compute(samples, n, out);
}

}  // namespace tkws
