#include <cstdio>
#include <memory>

#include "tinykws/cli/commands.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/eval/metrics.h"

namespace tkws::cli {

Runner add_eval(CLI::App& app) {
  struct Args {
    EvalOptions opt;
    std::string json_path;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--model", a->opt.model_path, "Model file (.tkws)")->required();
  app.add_option("--data", a->opt.data_dir,
                 "Dataset folder (default: $TINYKWS_DATA or ../shared/data)");
  app.add_option("--split", a->opt.split, "train, val, test or all (default: test, else val)")
      ->check(CLI::IsMember({"train", "val", "validation", "test", "all"}));
  app.add_option("--json", a->json_path, "Also write the full report as JSON to this file");
  app.add_option("--threads", a->opt.threads, "Clip loading workers (0 = all cores)");
  app.add_option("--latency-runs", a->opt.latency_runs, "Latency protocol runs")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--latency-discard", a->opt.latency_discard, "Leading runs dropped")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--latency-pause-ms", a->opt.latency_pause_ms, "Pause between latency runs")
      ->check(CLI::Range(0.0, 10000.0));
  return [a] {
    a->opt.data_dir = require_data_dir(a->opt.data_dir);
    if (a->opt.latency_discard >= a->opt.latency_runs)
      throw InputError("eval: --latency-discard must be smaller than --latency-runs");
    EvalReport r = evaluate(a->opt);
    std::fputs(to_text(r).c_str(), stdout);
    if (!a->json_path.empty()) write_file_atomic(a->json_path, to_json(r).dump(2) + "\n");
    return 0;
  };
}

}  // namespace tkws::cli
