// Streaming benchmark (`tinykws stream-eval`): a stream's label CSV, the detections of a run,
// and the figures wake-word engines publish (misses, false accepts per hour, delay), plus a
// sweep over the threshold that replays the detector's decisions on recorded hop scores.
//
// Scoring rules. A CSV row whose label is a keyword of the model is a keyword; any other row
// is a distractor (it protects nothing). A keyword's window is [start_s, end_s + window_after_s]
// (1 s by default). A detection is
//   - a hit: its label is that of a keyword whose window holds its time_s and that keyword has
//     no hit yet (the earliest such keyword is taken); delay = time_s - end_s;
//   - a duplicate: as a hit, but every such keyword already has one (not counted against the
//     detector, reported apart);
//   - wrong-label: inside some keyword's window, but none of those keywords has its label;
//   - a false accept: outside every keyword window.
// Miss rate = keywords with no hit / keywords; false accepts per hour = false accepts / hours
// of audio.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tinykws/runtime/stream_decider.h"

namespace tkws {

struct StreamLabel {
  double start_s = 0.0, end_s = 0.0;
  std::string label;
};

// Parses "start_s,end_s,label" CSV text: that header first (spaces around fields and CRLF line
// ends allowed), then one row per word with 0 <= start_s <= end_s (finite) and a non-empty
// label; blank lines are skipped. A pure function (no I/O) so a fuzz target can call it.
// Throws InputError "<source_name>:<line>: <problem>" for the first bad line.
std::vector<StreamLabel> parse_stream_labels(const std::string& text,
                                             const std::string& source_name);

struct StreamDetection {
  double time_s = 0.0;
  std::string label;
  float score = 0.0f;
};

struct StreamScore {
  int keywords = 0, distractors = 0;
  int hits = 0, misses = 0, wrong_label = 0, false_accepts = 0, duplicates = 0;
  double audio_s = 0.0;
  double miss_rate = 0.0;        // misses / keywords (0 when there are no keywords)
  double fa_per_hour = 0.0;      // false_accepts / (audio_s / 3600)
  std::vector<double> delays_s;  // one per hit, time_s - end_s, in hit order
  double median_delay_s = 0.0;   // 0 when there are no hits
};

StreamScore score_stream(const std::vector<StreamLabel>& labels,
                         const std::vector<StreamDetection>& detections,
                         const std::function<bool(const std::string&)>& is_keyword, double audio_s,
                         double window_after_s = 1.0);

// Per-hop network output of one detector run (StreamDetector's hop hook): what a decision
// rule needs to be replayed with other thresholds without running the network again.
struct ScoreTrace {
  int num_labels = 0;
  std::vector<double> time_s;  // [hops]
  std::vector<uint8_t> ran;    // [hops] 0 = gate closed
  std::vector<float> scores;   // [hops][num_labels]; zeros where ran = 0
  void add(double t, bool did_run, const float* s);
  size_t hops() const { return time_s.size(); }
};

// CSV of `trace`: header `time_s,network,<one column per label>`, one row per hop: the time of
// the hop's window end (seconds, millisecond precision), 1 when the network ran (0: the energy
// gate was closed, scores 0), and the network's class probabilities (6 significant digits),
// before smoothing. Labels holding a comma or a quote are quoted.
std::string hop_scores_csv(const ScoreTrace& trace, const std::vector<std::string>& labels);

// The detections StreamDecider makes on `trace` with `cfg` (label names from `labels`).
std::vector<StreamDetection> replay_decisions(const ScoreTrace& trace, const DeciderConfig& cfg,
                                              const std::vector<std::string>& labels);

struct SweepPoint {
  float threshold = 0.0f;
  StreamScore score;
};

// Thresholds of the default sweep: 0.05 .. 0.95 by 0.05, 0.96 .. 0.99, 0.995, 0.998, 0.999.
std::vector<float> default_sweep_thresholds();

// replay_decisions + score_stream at each threshold, applied to every keyword (cfg's other
// fields kept).
std::vector<SweepPoint> sweep_thresholds(const ScoreTrace& trace, const DeciderConfig& cfg,
                                         const std::vector<std::string>& labels,
                                         const std::vector<float>& thresholds,
                                         const std::vector<StreamLabel>& truth,
                                         const std::function<bool(const std::string&)>& is_keyword,
                                         double audio_s);

// The point meeting fa_per_hour <= target with the lowest miss rate (ties: the highest
// threshold); nullptr when none does.
const SweepPoint* pick_for_fa_rate(const std::vector<SweepPoint>& curve, double target);

}  // namespace tkws
