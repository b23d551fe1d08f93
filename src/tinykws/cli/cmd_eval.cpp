// `tinykws eval`: accuracy, confusion, size and latency (the course protocol) of a model on a
// dataset split; optionally a per-layer profile (--profile) and a constraint check
// (--constraints), which makes the exit code a release gate.
// Exit codes: 0 ok (and every constraint met), 1 runtime failure, 2 bad usage or input (a
// constraint that does not parse is caught before any work), 3 a constraint failed (the
// report, the table and --json are still written).
#include <cstdio>
#include <memory>

#include "tinykws/cli/commands.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/eval/constraints.h"
#include "tinykws/eval/metrics.h"

namespace tkws::cli {

namespace {
constexpr int kConstraintFailed = 3;
}

Runner add_eval(CLI::App& app) {
  struct Args {
    EvalOptions opt;
    std::string json_path, scores_path;
    std::string constraints;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--model", a->opt.model_path, "Model file (.tkws)")->required();
  add_data_option(app, a->opt.data_dirs);
  app.add_option("--split", a->opt.split, "train, val, test or all (default: test, else val)")
      ->check(CLI::IsMember({"train", "val", "validation", "test", "all"}));
  app.add_option("--json", a->json_path, "Also write the full report as JSON to this file");
  app.add_option("--scores", a->scores_path,
                 "Also write every clip's class probabilities as CSV to this file "
                 "(clip,word,group,truth,<labels>)");
  app.add_option("--threads", a->opt.threads, "Clip loading workers (0 = all cores)");
  app.add_option("--latency-runs", a->opt.latency_runs, "Latency protocol runs")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--latency-discard", a->opt.latency_discard, "Leading runs dropped")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--latency-pause-ms", a->opt.latency_pause_ms,
                 "Pause after each latency run (the course protocol: 100 ms, a 20 s "
                 "measurement; 0 for a quick number)")
      ->check(CLI::Range(0.0, 10000.0))
      ->capture_default_str();
  app.add_flag("--profile", a->opt.profile,
               "Also a per-layer profile: median time and MACs per network step, the front end "
               "as one row (same runs and discard as the latency, no pause)");
  CLI::Option* constraints_opt =
      app.add_option("--constraints", a->constraints,
                     "Check e.g. accuracy>0.994,size<50kB,latency<40ms (any subset; also "
                     "zipped_size; <, <=, >, >=; kB = 1000 B, KiB = 1024 B; ms, us, s; accuracy as "
                     "a fraction or in %); exit code 3 if one fails");
  return [a, constraints_opt] {
    // Parse the constraints first: a typo must not cost a whole evaluation.
    std::vector<Constraint> constraints;
    if (constraints_opt->count() > 0) {
      try {
        constraints = parse_constraints(a->constraints);
      } catch (const InputError& e) {
        throw InputError(std::string("eval --constraints: ") + e.what());
      }
    }
    a->opt.data_dirs = require_data_dirs(a->opt.data_dirs);
    if (a->opt.latency_discard >= a->opt.latency_runs)
      throw InputError("eval: --latency-discard must be smaller than --latency-runs");
    EvalReport r = evaluate(a->opt);
    std::fputs(to_text(r).c_str(), stdout);
    nlohmann::json j = to_json(r);
    std::vector<ConstraintResult> results;
    if (!constraints.empty()) {
      results = check(constraints, measured_of(r));
      std::fputs(("\nconstraints:\n" + constraints_table(results)).c_str(), stdout);
      j["constraints"] = constraints_json(results);
    }
    std::fflush(stdout);
    if (!a->json_path.empty()) write_file_atomic(a->json_path, j.dump(2) + "\n");
    if (!a->scores_path.empty()) write_file_atomic(a->scores_path, scores_csv(r));
    return all_pass(results) ? 0 : kConstraintFailed;
  };
}

}  // namespace tkws::cli
