// Accuracy, confusion, size and latency of a model file on a dataset split. Torch-free: the
// numbers come from the tinykws runtime, the code that ships.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tkws {

class KwsPipeline;
struct Model;

struct Stat {
  double median = 0, std = 0;  // milliseconds
};

struct LatencyReport {
  Stat preprocess, model, total;  // preprocess = normalisation + features; model = network
  int runs = 0, discarded = 0;
  double pause_ms = 0;
  std::vector<double> total_samples_ms;  // the kept runs, for plots
};

// The course protocol (REFERENCE.md §1): 16000 (clip_samples) samples of N(0, 1) noise as
// int16-range input, timed region = int16 -> float scaling + front end + network, `runs`
// runs of which the first `discard` are dropped, `pause_ms` sleep between runs; median and
// standard deviation of each part. Single-threaded.
LatencyReport measure_latency(KwsPipeline& pipe, int clip_samples, int runs = 200,
                              int discard = 100, double pause_ms = 0.0, uint64_t seed = 0);

struct Mistake {
  std::string file;  // relative to the dataset root
  std::string truth, predicted;
  double confidence = 0;  // probability of the predicted label
};

struct EvalReport {
  std::string model_path, data_dir, split;
  std::vector<std::string> labels;
  int n = 0, errors = 0;
  double accuracy = 0;
  std::vector<std::vector<int>> confusion;  // [true][predicted]
  std::vector<Mistake> mistakes;
  size_t size_bytes = 0, zipped_bytes = 0;
  LatencyReport latency;
  size_t arena_bytes = 0;
  int64_t parameters = 0;
};

// Deflate (zlib, level 9) size of a byte buffer: the "zipped" size the reports quote.
size_t deflated_size(const std::vector<uint8_t>& bytes);

int64_t count_parameters(const Model& m);

struct EvalOptions {
  std::string model_path, data_dir;
  std::string split;  // train | val | test | all; empty = test if present, else val
  int threads = 0;    // clip loading; inference is single-threaded per clip
  int latency_runs = 200, latency_discard = 100;
  double latency_pause_ms = 0.0;
};

EvalReport evaluate(const EvalOptions& opt);

nlohmann::json to_json(const EvalReport& r);
std::string to_text(const EvalReport& r);  // human-readable summary with the confusion table

}  // namespace tkws
