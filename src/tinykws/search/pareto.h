// Ranking search results: constraint feasibility, the Pareto front (accuracy max, size min,
// latency min) and the best feasible trial; the table and JSON the search prints and writes.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinykws/eval/constraints.h"
#include "tinykws/search/store.h"

namespace tkws::search {

struct Objectives {
  double accuracy = 0;  // maximised
  double size = 0;      // minimised (bytes)
  double latency = 0;   // minimised (ms)
};

// a dominates b: no worse in all three and better in at least one.
bool dominates(const Objectives& a, const Objectives& b);
// Indices of the non-dominated points (equal points all stay), ordered by accuracy (high
// first), then size, then latency, then index.
std::vector<size_t> pareto_front(const std::vector<Objectives>& points);

Measured measured_of(const TrialRecord& r);

struct Ranking {
  std::vector<TrialRecord> done;  // status == done, in trial order
  std::vector<bool> feasible;     // per done trial: meets every constraint
  std::vector<size_t> front;      // indices into done: front of the feasible trials (of all
  bool front_of_all = false;      //   done trials when none is feasible: front_of_all)
  std::optional<size_t> best;     // highest accuracy among feasible, ties -> smaller size
  int failed = 0, invalid = 0, running = 0;
};

Ranking rank_trials(const std::vector<TrialRecord>& all, const std::vector<Constraint>& cs);

// The Pareto front as a text table (rank, id, accuracy, size, zipped, latency, feasible,
// params), with a summary line and the best trial.
std::string pareto_table(const Ranking& r, const std::vector<Constraint>& cs);
// {"constraints": "...", "best": id|null, "front_of_all": bool, "counts": {...},
//  "trials": [{"id", "index", "params": {...}, "val_accuracy", "size_bytes", "zipped_bytes",
//              "latency_ms", "latency_std_ms", "train_seconds", "feasible", "pareto",
//              "run_dir"}, ...]}  (done trials only; units: fraction, bytes, ms, s)
nlohmann::json pareto_json(const Ranking& r, const std::string& constraints);

}  // namespace tkws::search
