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

// arg: 0 = front end + normalisation, 1 = network, 2 = both (clip -> probabilities).
void BM_Model(benchmark::State& state) {
  Model m;
  try {
    m = read_model(model_path());
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  KwsPipeline p;
  if (Status s = p.create(m); !s.ok()) {
    state.SkipWithError(s.message);
    return;
  }
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> clip(p.clip_samples());
  for (float& v : clip) v = noise(rng);
  std::vector<float> feats(static_cast<size_t>(p.num_frames()) * p.num_features());
  std::vector<float> probs(p.num_labels());
  p.features(clip.data(), feats.data());
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
// best, e.g. AVX2; 1 = the portable set a board without it runs: int8 models keep their
// weights int8 there), -1 = the reference kernels. Float and int8 models.
void BM_ModelKernels(benchmark::State& state) {
  Model m;
  try {
    m = read_model(model_path());
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
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
  KwsPipeline p;
  if (Status s = p.create(m, opt); !s.ok()) {
    state.SkipWithError(s.message);
    return;
  }
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> clip(p.clip_samples());
  for (float& v : clip) v = noise(rng);
  std::vector<float> feats(static_cast<size_t>(p.num_frames()) * p.num_features());
  std::vector<float> probs(p.num_labels());
  p.features(clip.data(), feats.data());
  for (auto _ : state) {
    p.network(feats.data(), probs.data());
    benchmark::DoNotOptimize(probs.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(p.is_int8() ? "int8 " : "float ") + (state.range(0) < 0 ? "reference"
                                                                  : state.range(0) == 0
                                                                      ? "best set"
                                                                      : "portable set"));
}
BENCHMARK(BM_ModelKernels)->Arg(0)->Arg(1)->Arg(-1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tkws

BENCHMARK_MAIN();
