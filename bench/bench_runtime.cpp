// Runtime latency: the network alone (DS-CNN, 49x10 input) per kernel set, and the whole
// pipeline (course front end: 16 kHz, 640/320, fft 640, 40 mel, 10 MFCC + the network).
// Run: build-rt/bench/bench_runtime [--benchmark_filter=...]; times are per clip, in us.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "../tests/format/test_models.h"
#include "tinykws/runtime/interpreter.h"
#include "tinykws/runtime/pipeline.h"

namespace tkws {
namespace {

using testing_models::dscnn_model;
using testing_models::Rng;

std::vector<float> uniform(size_t n, float scale, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(-scale, scale);
  return v;
}

// arg 0: fast kernel set index (0 = best this CPU runs), -1: reference kernels.
void BM_Network(benchmark::State& state) {
  const Model m = dscnn_model(32, 4, 2);
  InterpreterOptions opt;
  if (state.range(0) < 0) {
    opt.kernels = KernelSet::kReference;
  } else {
    int sets = 0;
    fast_kernel_sets(&sets);
    if (state.range(0) >= sets) {
      state.SkipWithError("kernel set not available on this CPU");
      return;
    }
    opt.fast_set = static_cast<int>(state.range(0));
  }
  Interpreter it;
  if (Status s = it.prepare(m, opt); !s.ok()) {
    state.SkipWithError(s.message);
    return;
  }
  std::vector<float> arena(it.arena_bytes() / sizeof(float) + 16);
  const std::vector<float> x = uniform(it.input_size(), 2.0f, 1);
  std::vector<float> probs(it.output_size());
  for (auto _ : state) {
    it.invoke(x.data(), probs.data(), arena.data(), it.arena_bytes());
    benchmark::DoNotOptimize(probs.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(it.kernel_set_name());
  state.counters["arena_bytes"] = static_cast<double>(it.arena_bytes());
}
// Other processes share this machine's cores: besides mean/median, report the minimum over
// repetitions (--benchmark_repetitions=N), the least disturbed estimate.
double min_of(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}

BENCHMARK(BM_Network)
    ->Arg(0)
    ->Arg(1)
    ->Arg(-1)
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", min_of);

// Per step of the best plan (for a quick profile): arg = step index.
void BM_NetworkStep(benchmark::State& state) {
  const Model m = dscnn_model(32, 4, 2);
  Interpreter it;
  it.prepare(m);
  struct Clock {
    int step = 0;
    double total = 0;
    std::chrono::steady_clock::time_point t0;
  } clk;
  clk.step = static_cast<int>(state.range(0));
  it.set_step_hook(
      [](void* u, const StepEvent& e) {
        auto* c = static_cast<Clock*>(u);
        if (e.step != c->step) return;
        if (!e.done) {
          c->t0 = std::chrono::steady_clock::now();
        } else {
          c->total +=
              std::chrono::duration<double>(std::chrono::steady_clock::now() - c->t0).count();
        }
      },
      &clk);
  std::vector<float> arena(it.arena_bytes() / sizeof(float) + 16);
  const std::vector<float> x = uniform(it.input_size(), 2.0f, 1);
  std::vector<float> probs(it.output_size());
  for (auto _ : state) it.invoke(x.data(), probs.data(), arena.data(), it.arena_bytes());
  state.SetLabel(it.step_name(clk.step));
  state.counters["step_us"] =
      benchmark::Counter(clk.total * 1e6 / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_NetworkStep)->DenseRange(0, 11)->Unit(benchmark::kMicrosecond);

void BM_Pipeline(benchmark::State& state) {
  const Model m = dscnn_model(32, 4, 2);  // course front end: fft_length 640
  KwsPipeline p;
  if (Status s = p.create(m); !s.ok()) {
    state.SkipWithError(s.message);
    return;
  }
  const std::vector<float> clip = uniform(static_cast<size_t>(p.clip_samples()), 0.3f, 2);
  std::vector<float> feats(static_cast<size_t>(p.num_frames()) * p.num_features());
  std::vector<float> probs(static_cast<size_t>(p.num_labels()));
  for (auto _ : state) {
    if (state.range(0) == 0) {
      p.features(clip.data(), feats.data());
      benchmark::DoNotOptimize(feats.data());
    } else {
      p.run(clip.data(), probs.data());
      benchmark::DoNotOptimize(probs.data());
    }
    benchmark::ClobberMemory();
  }
  state.SetLabel(state.range(0) == 0 ? "features only" : "features + network");
}
BENCHMARK(BM_Pipeline)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", min_of);

}  // namespace
}  // namespace tkws

BENCHMARK_MAIN();
