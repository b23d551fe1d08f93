// Clip-to-probabilities time of a real model file, front end and network separately.
// Run: TINYKWS_BENCH_MODEL=runs/default/model.tkws build/bench/bench_model
//      (without the variable it uses the newest run of scripts/run.sh, runs/default/model.tkws)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tinykws/format/tkws.h"
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

}  // namespace
}  // namespace tkws

BENCHMARK_MAIN();
