// Accuracy, confusion, size and latency of a model file on a dataset split. Torch-free: the
// numbers come from the tinykws runtime, the code that ships.
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinykws/eval/kws_metrics.h"  // ScoredClip

namespace tkws {

class KwsPipeline;
struct Model;
struct Profile;  // profile.h

struct Stat {
  double median = 0, std = 0;  // milliseconds
};

// Median and population standard deviation (ddof = 0, numpy's default) of `v`; zeros if empty.
Stat median_std(std::vector<double> v);

// The protocol's input, one clip per next(): N(0, 1) noise scaled to a quarter of int16 full
// scale, rounded and clamped to int16 (the caller's int16 -> float scaling is timed).
class NoiseClips {
 public:
  explicit NoiseClips(uint64_t seed) : rng_(seed) {}
  void next(int16_t* pcm, int n);

 private:
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
};

struct LatencyReport {
  Stat preprocess, model, total;  // preprocess = normalisation + features; model = network
  int runs = 0, discarded = 0;
  double pause_ms = 0;
  std::vector<double> total_samples_ms;  // the kept runs, for plots
};

// The course protocol (docs/training.md): 16000 (clip_samples) samples of N(0, 1) noise as
// int16-range input (NoiseClips, not timed), timed region = int16 -> float scaling + front end
// + network, `runs` runs of which the first `discard` are dropped, `pause_ms` sleep after every
// run but the last (the course: 100 ms); median and standard deviation of each part over the
// kept runs. Single-threaded (the calling thread; the runtime starts no threads).
LatencyReport measure_latency(KwsPipeline& pipe, int clip_samples, int runs = 200,
                              int discard = 100, double pause_ms = 100.0, uint64_t seed = 0);

struct Mistake {
  std::string file;  // relative to the dataset root
  std::string truth, predicted;
  double confidence = 0;  // probability of the predicted label
};

struct EvalReport {
  std::string model_path, data_dir, split;  // data_dir: the folders joined with ", "
  std::vector<std::string> labels;
  int n = 0, errors = 0;
  double accuracy = 0;
  std::vector<std::vector<int>> confusion;  // [true][predicted]
  std::vector<Mistake> mistakes;
  size_t size_bytes = 0, zipped_bytes = 0;
  LatencyReport latency;
  size_t arena_bytes = 0;
  int64_t parameters = 0;
  std::shared_ptr<const Profile> profile;  // null unless EvalOptions::profile (profile.h)
  // Keyword-spotting metrics (kws_metrics.h) over every clip of the split, words the model has
  // no class for included, plus the background windows when the data has recordings. Set when
  // such clips exist or the model has non-keyword classes. accuracy / confusion / mistakes
  // count only clips whose word has a class (other words as `_unknown_` when the model has it).
  std::shared_ptr<const KwsMetrics> kws;
  int foreign_clips = 0;  // clips of words the model has no class for (not in `n`)
  // Every clip scored (foreign clips and background windows included), in evaluation order,
  // with its class probabilities: scores_csv() writes them for analysis outside tinykws.
  std::vector<ScoredClip> scores;
};

// CSV of EvalReport::scores: header `clip,word,group,truth,<one column per label>`, one row
// per clip (word empty for background windows; group keyword / unknown / held_out /
// background; truth the label the clip must get, empty when none; probabilities with 6
// significant digits). Fields holding a comma or a quote are quoted.
std::string scores_csv(const EvalReport& r);

// Deflate (zlib, level 9) size of a byte buffer: the "zipped" size the reports quote.
size_t deflated_size(const std::vector<uint8_t>& bytes);

int64_t count_parameters(const Model& m);

// Class probabilities of every clip (clip_samples() floats each) under `pipe`. Throws
// std::runtime_error naming clip i when inference fails.
std::vector<std::vector<float>> runtime_probs(KwsPipeline& pipe,
                                              const std::vector<std::vector<float>>& clips);

// Fraction of rows of `probs` whose most probable class is labels[i] (0 when empty).
double argmax_accuracy(const std::vector<std::vector<float>>& probs,
                       const std::vector<int64_t>& labels);

// Fraction of `clips` whose most probable label under `pipe` is labels[i].
double runtime_accuracy(KwsPipeline& pipe, const std::vector<std::vector<float>>& clips,
                        const std::vector<int64_t>& labels);

struct EvalOptions {
  std::string model_path;
  std::vector<std::string> data_dirs;  // merged by label
  std::string split;  // train | val | test | all; empty = test if present, else val
  int threads = 0;    // clip loading; inference is single-threaded per clip
  // The course's latency protocol by default: 200 runs, 100 dropped, 100 ms pause (a 20 s
  // measurement). Callers that need a quick number (tests, search trials) lower these.
  int latency_runs = 200, latency_discard = 100;
  double latency_pause_ms = 100.0;
  // Also a per-layer profile (profile.h) with the same runs / discard and no pause.
  bool profile = false;
};

EvalReport evaluate(const EvalOptions& opt);

nlohmann::json to_json(const EvalReport& r);
std::string to_text(const EvalReport& r);  // human-readable summary with the confusion table

}  // namespace tkws
