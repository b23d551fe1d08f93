#include "tinykws/audio/reverb.h"

#include <kissfft/kiss_fftr.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "tinykws/audio/level.h"

namespace tkws {

std::vector<float> make_rir(double rt60_s, double drr_db, int sample_rate, uint64_t seed,
                            int max_samples) {
  const int onset = std::max(1, static_cast<int>(std::lround(0.0025 * sample_rate)));
  const int len = std::clamp(static_cast<int>(std::lround(rt60_s * sample_rate)), onset + 1,
                             std::max(onset + 1, max_samples));
  std::vector<float> h(static_cast<size_t>(len), 0.0f);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  // Amplitude e^{-n / tau} decays by 60 dB (a factor 1000) at n = rt60 * fs.
  const double tau = rt60_s * sample_rate / std::log(1000.0);
  double tail = 0.0;
  for (int n = onset; n < len; ++n) {
    const double v = g(rng) * std::exp(-(n - onset) / tau);
    h[static_cast<size_t>(n)] = static_cast<float>(v);
    tail += v * v;
  }
  const double scale = tail > 0.0 ? std::sqrt(std::pow(10.0, -drr_db / 10.0) / tail) : 0.0;
  for (int n = onset; n < len; ++n) h[static_cast<size_t>(n)] *= static_cast<float>(scale);
  h[0] = 1.0f;
  return h;
}

namespace {
struct FftrDeleter {
  void operator()(kiss_fftr_state* p) const { kiss_fftr_free(p); }
};
using FftrPtr = std::unique_ptr<kiss_fftr_state, FftrDeleter>;

// One forward and one inverse plan per worker thread, with their buffers, rebuilt only when
// the length changes.
struct ConvPlans {
  int nfft = 0;
  FftrPtr fwd, inv;
  std::vector<float> a, b;           // [nfft]: the clip and the response, zero-padded
  std::vector<kiss_fft_cpx> fa, fb;  // [nfft / 2 + 1]: their spectra
  void ensure(int n) {
    if (n == nfft) return;
    fwd.reset(kiss_fftr_alloc(n, 0, nullptr, nullptr));
    inv.reset(kiss_fftr_alloc(n, 1, nullptr, nullptr));
    a.resize(static_cast<size_t>(n));
    b.resize(static_cast<size_t>(n));
    fa.resize(static_cast<size_t>(n) / 2 + 1);
    fb.resize(static_cast<size_t>(n) / 2 + 1);
    nfft = n;
  }
};
}  // namespace

void reverberate(std::vector<float>& clip, const std::vector<float>& rir) {
  const size_t n = clip.size();
  if (n == 0 || rir.empty()) return;
  const double before = mean_square(clip.data(), n);
  if (before == 0.0) return;
  int nfft = 2;
  while (static_cast<size_t>(nfft) < n + rir.size() - 1) nfft *= 2;
  thread_local ConvPlans p;
  p.ensure(nfft);
  std::fill(std::copy(clip.begin(), clip.end(), p.a.begin()), p.a.end(), 0.0f);
  std::fill(std::copy(rir.begin(), rir.end(), p.b.begin()), p.b.end(), 0.0f);
  kiss_fftr(p.fwd.get(), p.a.data(), p.fa.data());
  kiss_fftr(p.fwd.get(), p.b.data(), p.fb.data());
  for (size_t k = 0; k < p.fa.size(); ++k) {
    const float re = p.fa[k].r * p.fb[k].r - p.fa[k].i * p.fb[k].i;
    const float im = p.fa[k].r * p.fb[k].i + p.fa[k].i * p.fb[k].r;
    p.fa[k].r = re;
    p.fa[k].i = im;
  }
  kiss_fftri(p.inv.get(), p.fa.data(), p.a.data());  // unnormalised: nfft times the result
  const double after = mean_square(p.a.data(), n);
  const auto gain = static_cast<float>(after > 0.0 ? std::sqrt(before / after) : 0.0);
  for (size_t i = 0; i < n; ++i) clip[i] = p.a[i] * gain;
}

}  // namespace tkws
