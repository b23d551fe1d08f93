// StreamDetector cost: one hop (front end on the hop's new frames + the network + decision),
// and the real-time factor on a long stream at the model's default settings.
// Run: TINYKWS_BENCH_MODEL=runs/default/model.tkws build/bench/bench_stream
//      (without the variable: runs/default/model.tkws of the source tree)
// Optional: TINYKWS_BENCH_STREAM=stream.wav (a 16-bit mono WAV at the model's rate; default:
// synthetic, 30 % of every 2 s loud noise bursts, the rest near-silent noise, so the energy
// gate has speech-like on/off periods). The counters say what each run measured.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tinykws/format/tkws.h"
#include "tinykws/runtime/detector.h"

namespace tkws {
namespace {

std::string model_path() {
  const char* p = std::getenv("TINYKWS_BENCH_MODEL");
  return p && *p ? p : std::string(TINYKWS_SOURCE_DIR) + "/runs/default/model.tkws";
}

bool load_model(benchmark::State& state, Model* m) {
  try {
    *m = read_model(model_path());
    return true;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return false;
  }
}

// 16-bit PCM data of a canonical WAV (44-byte header), or empty.
std::vector<float> read_wav16(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> x;
  for (size_t i = 44; i + 1 < b.size(); i += 2)
    x.push_back(static_cast<int16_t>(static_cast<uint8_t>(b[i]) | b[i + 1] << 8) / 32768.0f);
  return x;
}

std::vector<float> test_stream(int rate, int seconds) {
  if (const char* p = std::getenv("TINYKWS_BENCH_STREAM"); p && *p) return read_wav16(p);
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rate) * seconds);
  for (size_t i = 0; i < x.size(); ++i) {
    const bool loud = (i % (2 * static_cast<size_t>(rate))) < static_cast<size_t>(0.6 * rate);
    x[i] = n(rng) * (loud ? 0.1f : 0.0005f);  // about -20 dBFS and -66 dBFS
  }
  return x;
}

// One hop with the network always running (gate off): push hop_samples() of noise.
// Args: hop in ms; 1 = reuse activations between hops when the hop allows it (80 ms for the
// default network), 0 = the whole network every hop, 2 = reuse with the kept rows stored once
// and moved each hop (InterpreterOptions::shift_kept_rows, the small-RAM form).
void BM_DetectorHop(benchmark::State& state) {
  Model m;
  if (!load_model(state, &m)) return;
  DetectorSettings s = m.detector;
  s.gate = false;
  s.hop_ms = static_cast<int>(state.range(0));
  // Heap held by the detector: glibc's allocated bytes (small chunks and mmap-ed large ones)
  // before and after create() (weights, front-end tables, arena and the streaming state).
  const auto heap = [] {
    const struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
  };
  const size_t heap_before = heap();
  StreamDetector d;
  InterpreterOptions opt;
  opt.shift_kept_rows = state.range(1) == 2;
  if (Status st = d.create(m, s, opt, state.range(1) != 0); !st.ok())
    return state.SkipWithError(st.message);
  const double heap_bytes = static_cast<double>(heap() - heap_before);
  const std::vector<float> x = test_stream(m.frontend.sample_rate, 4);
  d.push(x.data(), static_cast<size_t>(m.frontend.clip_samples));  // fill the first window
  const size_t hop = static_cast<size_t>(d.hop_samples());
  size_t at = static_cast<size_t>(m.frontend.clip_samples);
  for (auto _ : state) {
    if (at + hop > x.size()) at = static_cast<size_t>(m.frontend.clip_samples);
    d.push(x.data() + at, hop);
    at += hop;
  }
  state.counters["hop_ms"] = d.hop_ms();
  state.counters["reuse"] = d.reuses_activations();
  state.counters["state_bytes"] = static_cast<double>(d.state_bytes());
  state.counters["heap_bytes"] = heap_bytes;
}
BENCHMARK(BM_DetectorHop)
    ->Args({20, 0})
    ->Args({100, 0})
    ->Args({80, 0})
    ->Args({80, 1})
    ->Args({80, 2})
    ->Args({40, 1})
    ->Unit(benchmark::kMicrosecond);

// The whole stream at the model's default settings. Args: 1 = gate as stored, 0 = forced off;
// hop in ms (0 = as stored); 1 = reuse activations when the hop allows it, 0 = never.
void BM_DetectorRealTime(benchmark::State& state) {
  Model m;
  if (!load_model(state, &m)) return;
  DetectorSettings s = m.detector;
  if (state.range(0) == 0) s.gate = false;
  if (state.range(1) > 0) s.hop_ms = static_cast<int>(state.range(1));
  StreamDetector d;
  if (Status st = d.create(m, s, {}, state.range(2) != 0); !st.ok())
    return state.SkipWithError(st.message);
  const std::vector<float> x = test_stream(m.frontend.sample_rate, 60);
  const double audio_s = static_cast<double>(x.size()) / m.frontend.sample_rate;
  for (auto _ : state) {
    d.reset();
    for (size_t at = 0; at < x.size(); at += 1024)
      d.push(x.data() + at, std::min<size_t>(1024, x.size() - at));
  }
  state.counters["audio_s"] = audio_s;
  // Real-time factor: seconds of audio per second of processing.
  state.counters["x_realtime"] = benchmark::Counter(
      audio_s * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["network_share"] =
      d.hops() ? static_cast<double>(d.network_runs()) / static_cast<double>(d.hops()) : 0.0;
  state.counters["state_bytes"] = static_cast<double>(d.state_bytes());
  state.counters["hop_ms"] = d.hop_ms();
  state.counters["reuse"] = d.reuses_activations();
}
BENCHMARK(BM_DetectorRealTime)
    ->Args({1, 0, 1})
    ->Args({0, 0, 1})
    ->Args({0, 80, 0})
    ->Args({0, 80, 1})
    ->Args({1, 80, 1})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tkws

BENCHMARK_MAIN();
