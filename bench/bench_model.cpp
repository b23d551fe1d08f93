// Clip-to-probabilities time of a real model file, front end and network separately.
// Run: TINYKWS_BENCH_MODEL=runs/default/model.tkws build/bench/bench_model
//      (without the variable it uses the newest run of scripts/run.sh, runs/default/model.tkws)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tinykws/format/tkws.h"
#include "tinykws/runtime/interpreter.h"
#include "tinykws/runtime/ops_int8.h"
#include "tinykws/runtime/pipeline.h"

namespace tkws {
namespace {

std::string model_path() {
  const char* p = std::getenv("TINYKWS_BENCH_MODEL");
  return p && *p ? p : std::string(TINYKWS_SOURCE_DIR) + "/runs/default/model.tkws";
}

// The model file, or false with the benchmark skipped and the reason.
bool load_model(benchmark::State& state, Model* m) {
  try {
    *m = read_model(model_path());
    return true;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return false;
  }
}

// The model's pipeline with `opt`, a clip of noise and its features.
struct Prepared {
  KwsPipeline p;
  std::vector<float> clip, feats, probs;
};
bool prepare(benchmark::State& state, const Model& m, const InterpreterOptions& opt, Prepared* x) {
  if (Status s = x->p.create(m, opt); !s.ok()) {
    state.SkipWithError(s.message);
    return false;
  }
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  x->clip.resize(x->p.clip_samples());
  for (float& v : x->clip) v = noise(rng);
  x->feats.resize(static_cast<size_t>(x->p.num_frames()) * x->p.num_features());
  x->probs.resize(x->p.num_labels());
  x->p.features(x->clip.data(), x->feats.data());
  return true;
}

// arg: 0 = front end + normalisation, 1 = network, 2 = both (clip -> probabilities).
void BM_Model(benchmark::State& state) {
  Model m;
  Prepared x;
  if (!load_model(state, &m) || !prepare(state, m, {}, &x)) return;
  KwsPipeline& p = x.p;
  std::vector<float>&clip = x.clip, &feats = x.feats, &probs = x.probs;
  for (auto _ : state) {
    switch (state.range(0)) {
      case 0:
        p.features(clip.data(), feats.data());
        break;
      case 1:
        p.network(feats.data(), probs.data());
        break;
      default:
        p.run(clip.data(), probs.data());
        break;
    }
    benchmark::DoNotOptimize(probs.data());
    benchmark::DoNotOptimize(feats.data());
    benchmark::ClobberMemory();
  }
  static const char* names[] = {"front end", "network", "clip to probabilities"};
  state.SetLabel(std::string(names[state.range(0)]) + (p.is_int8() ? " (int8)" : ""));
}
BENCHMARK(BM_Model)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

// The network alone per kernel set: arg = index into the fast sets this CPU runs (0 = the
// best, e.g. AVX2; then the portable "generic" set, whose int8 weights stay int8; last, on a
// SIMD build, "scalar": what a Cortex-M runs), -1 = the reference kernels. Float and int8.
void BM_ModelKernels(benchmark::State& state) {
  Model m;
  if (!load_model(state, &m)) return;
  InterpreterOptions opt;
  if (state.range(0) < 0) {
    opt.kernels = KernelSet::kReference;
  } else {
    int sets = 0;
    if (m.is_int8()) {
      int8_fast_kernel_sets(&sets);
    } else {
      fast_kernel_sets(&sets);
    }
    if (state.range(0) >= sets) {
      state.SkipWithError("kernel set not available on this CPU");
      return;
    }
    opt.fast_set = static_cast<int>(state.range(0));
  }
  Prepared x;
  if (!prepare(state, m, opt, &x)) return;
  KwsPipeline& p = x.p;
  std::vector<float>&feats = x.feats, &probs = x.probs;
  for (auto _ : state) {
    p.network(feats.data(), probs.data());
    benchmark::DoNotOptimize(probs.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(
      std::string(p.is_int8() ? "int8, " : "float, ") +
      (p.is_int8() ? p.int8_network().kernel_set_name() : p.interpreter().kernel_set_name()));
}
BENCHMARK(BM_ModelKernels)->Arg(0)->Arg(1)->Arg(2)->Arg(-1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tkws

BENCHMARK_MAIN();
