// `tinykws search`: grid or random hyperparameter search over any config field, trials in
// parallel worker processes, results in SQLite, shards for job arrays; `tinykws search merge`
// combines the shards. Flags map onto search::SearchOptions / search::MergeOptions.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "tinykws/cli/commands.h"
#include "tinykws/common/error.h"
#include "tinykws/search/runner.h"

namespace tkws::cli {

Runner add_search(CLI::App& app) {
  struct Args {
    search::SearchOptions opt;
    std::string shard;
    search::MergeOptions merge;
  };
  auto a = std::make_shared<Args>();
  app.require_subcommand(0, 1);
  app.add_option("--space", a->opt.space_path, "Search space (TOML): base config, axes, mode");
  add_data_option(app, a->opt.data_dirs);
  app.add_option("--out", a->opt.out_dir, "Output folder (shared by all shards)");
  app.add_option("--jobs", a->opt.jobs, "Trials trained at a time (worker processes)")
      ->check(CLI::Range(1, 256));
  app.add_option("--shard", a->shard,
                 "I/N: run only trials whose list index % N == I (0-based, e.g. "
                 "$SLURM_ARRAY_TASK_ID/8); writes OUT/shard-I-of-N.sqlite");
  app.add_option("--constraints", a->opt.constraints,
                 "Feasibility, e.g. accuracy>0.99,size<50kB,latency<40ms (overrides the space's)");
  app.add_option("--latency-runs", a->opt.latency_runs, "Latency protocol runs per trial")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--latency-discard", a->opt.latency_discard, "Leading latency runs dropped")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--quiet", a->opt.quiet, "No per-trial lines");

  CLI::App* merge = app.add_subcommand(
      "merge", "Combine shard results (OUT/shard-*-of-*.sqlite) into OUT/results.sqlite");
  merge
      ->add_option("--out", a->merge.out_dir,
                   "Output folder: results.sqlite, pareto.json, best.tkws")
      ->required();
  merge->add_option("sources", a->merge.sources,
                    "Shard .sqlite files or folders holding them (default: --out)");
  merge->add_option("--constraints", a->merge.constraints,
                    "Feasibility (default: the constraints the search ran with)");

  return [a, merge]() -> int {
    if (merge->parsed()) return search::merge_search(a->merge, stdout);
    search::SearchOptions& o = a->opt;
    if (o.space_path.empty()) throw InputError("search: --space SPACE.toml is required");
    if (o.out_dir.empty()) throw InputError("search: --out DIR is required");
    o.data_dirs = require_data_dirs(o.data_dirs);
    if (!a->shard.empty()) o.shard = search::parse_shard(a->shard);
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw std::runtime_error("search: cannot find the tinykws executable (/proc/self/exe)");
    o.worker_binary = self.string();
    return search::run_search(o, stdout);
  };
}

}  // namespace tkws::cli
