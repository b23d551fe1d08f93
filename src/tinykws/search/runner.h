// Running a search: trials in parallel worker processes (`tinykws train` on each trial's
// config), measured (file size, zipped size, course-protocol latency), stored in SQLite,
// resumable, shardable; and merging the shards of a search.
//
// Output folder (shared by every shard):
//   OUT/results.sqlite         unsharded search, or the merge of the shards
//   OUT/shard-I-of-N.sqlite    shard I (0-based) of N: trials whose list index % N == I
//   OUT/trials/<id>/           trial.toml (the config), train.log, and the run folder
//                              (model.tkws, metrics.json, checkpoint.pt)
//   OUT/pareto.json, OUT/best.tkws   written by an unsharded search and by merge only
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace tkws::search {

struct Shard {
  int index = 0, count = 1;     // 0 <= index < count
  bool given = false;           // --shard was passed: results go to shard-I-of-N.sqlite
  std::string db_name() const;  // "results.sqlite" or "shard-I-of-N.sqlite"
};
// "I/N" with 0 <= I < N (0-based, as SLURM_ARRAY_TASK_ID with --array=0-(N-1)).
// InputError otherwise.
Shard parse_shard(const std::string& text);

struct SearchOptions {
  std::string space_path, out_dir;
  std::vector<std::string> data_dirs;  // each passed to the workers as --data
  std::string worker_binary;           // the tinykws executable the workers run (`train`)
  std::string constraints;             // overrides the space's constraints when non-empty
  int jobs = 1;                        // worker processes at a time
  Shard shard;
  int latency_runs = 30, latency_discard = 10;  // course protocol, shortened for searches
  bool quiet = false;                           // no per-trial lines
};

// Runs the trials of the space (of this shard) that are not done yet; prints progress and
// the Pareto table to `log`. Returns 0 when every trial ended done (or invalid and skipped),
// 1 when some trial failed (its row says why; rerunning retries it). InputError for a bad
// space, constraint, data folder, or an OUT made from a different base config.
int run_search(const SearchOptions& opt, FILE* log);

struct MergeOptions {
  std::string out_dir;               // gets results.sqlite, pareto.json, best.tkws
  std::vector<std::string> sources;  // shard .sqlite files or folders holding them; empty: out_dir
  std::string constraints;           // overrides the stored constraints when non-empty
};

// Combines shard files into out_dir/results.sqlite (a done row wins over any other status of
// the same trial), then prints the Pareto table, writes pareto.json and copies the best
// feasible trial's model to best.tkws. Warns about missing shards. Returns 0.
int merge_search(const MergeOptions& opt, FILE* log);

}  // namespace tkws::search
