// Frontend::compute, one 1 s clip (16000 samples of N(0, 0.1) noise, as the course's latency
// protocol) per iteration. Reported time = µs per clip.
//   BM_Frontend/course   : 640 / 320, fft 640 (mixed radix), 40 mel 20-4000 Hz, 10 MFCC
//   BM_Frontend/r2_512   : 512 / 256, fft 512, 16 mel 20-4000 Hz, 16 MFCC (report 2)
//   BM_Frontend/r1_1024  : 1024 / 512, fft 1024, 100 mel 20-1000 Hz, 10 MFCC (report 1)
//   BM_FftOnly/*         : the kissfft calls alone for the same frame counts
//   BM_FftKiss/n         : one kiss_fftr of length n (640, 512, 1024): time per frame
//   BM_FftBatch/n        : one RealFftBatch::forward, 8 frames of length n: time per call
//                          (8 frames, plus restoring its 20-40 kB input); counter per_frame =
//                          time / 8, to set beside BM_FftKiss
//   BM_FftBatchGeneric/n : RealFftBatch forced onto its baseline (non-AVX2) kernels
#include <benchmark/benchmark.h>
#include <kissfft/kiss_fftr.h>

#include <cstring>
#include <random>
#include <vector>

#include "tinykws/frontend/fft.h"
#include "tinykws/frontend/frontend.h"

namespace {

using tkws::FeatureKind;
using tkws::FrontendConfig;

FrontendConfig config(int which) {
  FrontendConfig c;
  if (which == 0) {  // course
    c.frame_length = 640, c.frame_step = 320, c.fft_length = 640;
    c.num_mel_bins = 40, c.lower_hz = 20.0f, c.upper_hz = 4000.0f, c.num_mfcc = 10;
  } else if (which == 1) {  // report 2
    c.frame_length = 512, c.frame_step = 256, c.fft_length = 0;
    c.num_mel_bins = 16, c.lower_hz = 20.0f, c.upper_hz = 4000.0f, c.num_mfcc = 16;
  } else {  // report 1
    c.frame_length = 1024, c.frame_step = 512, c.fft_length = 0;
    c.num_mel_bins = 100, c.lower_hz = 20.0f, c.upper_hz = 1000.0f, c.num_mfcc = 10;
  }
  c.kind = FeatureKind::kMfcc;
  return c;
}

std::vector<float> clip(int n) {
  std::mt19937 rng(42);
  std::normal_distribution<float> d(0.0f, 0.1f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

void BM_Frontend(benchmark::State& state) {
  const FrontendConfig c = config(static_cast<int>(state.range(0)));
  tkws::Frontend fe(c);
  if (!fe.ok()) {
    state.SkipWithError("bad config");
    return;
  }
  const std::vector<float> x = clip(c.clip_samples);
  std::vector<float> out(static_cast<size_t>(fe.num_frames()) * fe.num_features());
  for (auto _ : state) {
    fe.compute(x.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["frames"] = fe.num_frames();
}

void BM_FftOnly(benchmark::State& state) {
  const FrontendConfig c = config(static_cast<int>(state.range(0)));
  const int n = c.effective_fft_length();
  kiss_fftr_cfg plan = kiss_fftr_alloc(n, 0, nullptr, nullptr);
  std::vector<float> in = clip(n);
  std::vector<kiss_fft_cpx> spec(n / 2 + 1);
  const int frames = c.num_frames();
  for (auto _ : state) {
    for (int t = 0; t < frames; ++t) kiss_fftr(plan, in.data(), spec.data());
    benchmark::DoNotOptimize(spec.data());
    benchmark::ClobberMemory();
  }
  kiss_fftr_free(plan);
}

void BM_FftKiss(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  kiss_fftr_cfg plan = kiss_fftr_alloc(n, 0, nullptr, nullptr);
  std::vector<float> in = clip(n);
  std::vector<kiss_fft_cpx> spec(n / 2 + 1);
  for (auto _ : state) {
    kiss_fftr(plan, in.data(), spec.data());
    benchmark::DoNotOptimize(spec.data());
    benchmark::ClobberMemory();
  }
  kiss_fftr_free(plan);
}

// dst[i] = src[i], i < n (n a multiple of 8), 8 floats per memcpy so no call to memmove.
__attribute__((noinline)) void restore(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    float tmp[8];
    std::memcpy(tmp, src + i, sizeof tmp);
    benchmark::DoNotOptimize(tmp);
    std::memcpy(dst + i, tmp, sizeof tmp);
  }
}

// Per frame: each call transforms kLanes frames; the rate counter makes the time per frame.
void fft_batch(benchmark::State& state, bool generic_only) {
  const int n = static_cast<int>(state.range(0));
  constexpr int kLanes = tkws::RealFftBatch::kLanes;
  tkws::RealFftBatch plan(n, generic_only);
  if (!plan.ok()) {
    state.SkipWithError("unsupported length");
    return;
  }
  const std::vector<float> frames = clip(n * kLanes);  // [n][kLanes]
  std::vector<float> data(frames.size()), re((n / 2 + 1) * kLanes), im(re.size());
  for (auto _ : state) {
    // forward() uses its input as scratch: restore it (the front end writes the windowed
    // frames there). A vector loop, not std::copy: on this VM glibc's memmove of the buffer
    // took longer than the FFT itself (perf: 62 % of the time).
    restore(data.data(), frames.data(), frames.size());
    plan.forward(data.data(), re.data(), im.data());
    benchmark::DoNotOptimize(re.data());
    benchmark::ClobberMemory();
  }
  state.counters["per_frame"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kLanes,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(plan.uses_avx2() ? "avx2+fma" : "baseline");
}

void BM_FftBatch(benchmark::State& state) {
  fft_batch(state, false);
}

void BM_FftBatchGeneric(benchmark::State& state) {
  fft_batch(state, true);
}

}  // namespace

BENCHMARK(BM_Frontend)->ArgName("cfg")->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FftOnly)->ArgName("cfg")->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FftKiss)->ArgName("n")->Arg(640)->Arg(512)->Arg(1024)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FftBatch)->ArgName("n")->Arg(640)->Arg(512)->Arg(1024)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FftBatchGeneric)
    ->ArgName("n")
    ->Arg(640)
    ->Arg(512)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
