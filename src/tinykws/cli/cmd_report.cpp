#include <cstdio>
#include <memory>

#include "tinykws/cli/commands.h"
#include "tinykws/eval/report.h"

namespace tkws::cli {

Runner add_report(CLI::App& app) {
  auto opt = std::make_shared<ReportOptions>();
  app.add_option("run_dir", opt->run_dir,
                 "Run folder (tinykws train --out): metrics.json, optional eval.json, model.tkws")
      ->required();
  app.add_option("--out", opt->out_path, "HTML file to write (default: RUN_DIR/report.html)");
  add_data_option(app, opt->data_dirs)
      ->description(
          "Dataset folder(s) for the spectrograms (default: $TINYKWS_DATA or "
          "../shared/data)");
  app.add_option("--clips", opt->clips_per_label, "Spectrogram clips per label")
      ->check(CLI::Range(0, 20));
  return [opt] {
    if (opt->data_dirs.empty()) opt->data_dirs = default_data_dirs();  // none: section left out
    ReportResult r = write_report(*opt);
    std::printf("wrote %s (%zu bytes)\n", r.out_path.c_str(), r.bytes);
    for (const auto& m : r.missing) std::printf("  section left out: %s\n", m.c_str());
    return 0;
  };
}

}  // namespace tkws::cli
