// `tinykws report RUN_DIR`: one self-contained HTML page (inline CSS and SVG; no scripts, no
// network references) describing a training run folder:
//   - training curves per epoch from RUN_DIR/metrics.json (required): loss and accuracy for
//     train and val, sparsity, learning rate; the clustering phase shaded, the best epoch marked;
//   - confusion matrix and latency distribution from RUN_DIR/eval.json (`tinykws eval --json`);
//   - per-tensor stored size and sparsity bars from RUN_DIR/model.tkws (describe_storage);
//   - log-mel spectrograms and the network's input features of the first clips of each label of
//     a dataset's validation split, computed with the model's own front end.
// Optional inputs that are absent leave their section out with a note saying how to produce
// them. The page is assembled in report.cpp; its charts are drawn in report_charts.cpp with the
// SVG building blocks of svg.h (included here for the other reports that use them).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "tinykws/eval/svg.h"

namespace tkws {

struct ReportOptions {
  std::string run_dir;   // holds metrics.json, and optionally eval.json and model.tkws
  std::string out_path;  // empty = run_dir/report.html
  std::vector<std::string> data_dirs;  // dataset for the spectrograms; empty = section missing
  int clips_per_label = 2;  // spectrogram clips per label (val split, else test, else train)
  int max_labels = 8;       // labels shown in the spectrogram section (page size stays small)
};

struct ReportResult {
  std::string out_path;
  size_t bytes = 0;
  // One line per section left out, naming what is missing and how to produce it.
  std::vector<std::string> missing;
};

// Builds the page. Throws InputError (common/error.h) naming the folder when run_dir is not a
// folder or holds no metrics.json, and naming the file when metrics.json, eval.json or
// model.tkws cannot be parsed. A dataset that cannot be read only drops the spectrograms.
std::string render_report(const ReportOptions& opt, std::vector<std::string>* missing = nullptr);

// render_report, then writes the page atomically to out_path (or run_dir/report.html).
ReportResult write_report(const ReportOptions& opt);

}  // namespace tkws
