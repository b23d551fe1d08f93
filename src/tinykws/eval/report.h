// `tinykws report RUN_DIR`: one self-contained HTML page (inline CSS and SVG; no scripts, no
// network references) describing a training run folder:
//   - training curves per epoch from RUN_DIR/metrics.json (required): loss and accuracy for
//     train and val, sparsity, learning rate; the clustering phase shaded, the best epoch marked;
//   - confusion matrix and latency distribution from RUN_DIR/eval.json (`tinykws eval --json`);
//   - per-tensor stored size and sparsity bars from RUN_DIR/model.tkws (describe_storage);
//   - log-mel spectrograms and the network's input features of the first clips of each label of
//     a dataset's validation split, computed with the model's own front end.
// Optional inputs that are absent leave their section out with a note saying how to produce
// them. The SVG helpers are public so other reports (e.g. the search's Pareto front) reuse them.
#pragma once
#include <string>
#include <utility>
#include <vector>

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

// ---- SVG building blocks (all output is inline SVG text with escaped labels) ----

std::string html_escape(const std::string& s);

struct ChartSeries {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite y values are skipped
  std::string color;         // CSS colour, e.g. "#1f77b4"
  bool dashed = false;
};

struct LineChart {
  std::string id;  // the <svg> id attribute, e.g. "chart-loss"
  std::string title, x_label, y_label;
  std::vector<ChartSeries> series;
  double y_min = 0, y_max = 0;  // y_min == y_max: fit to the data
  bool log_y = false;           // log10 axis (values <= 0 skipped)
  bool markers = false;         // a dot at every point
  bool lines = true;            // join points (false + markers = scatter plot)
  // Shaded x ranges [from, to] with a caption each, e.g. the clustering phase.
  std::vector<std::pair<double, double>> bands;
  std::vector<std::string> band_labels;
  std::vector<std::pair<double, std::string>> vlines;  // dashed vertical markers with captions
  int width = 440, height = 250;
};

// A line (or scatter) chart with axes, nice ticks, a legend and the bands/markers above.
std::string svg_line_chart(const LineChart& c);

// A [nx][ny] row-major matrix (e.g. features: [frames][coefficients]) as a heat map of <rect>
// cells: x across, y upwards (coefficient 0 at the bottom), viridis colours scaled to the
// data's range. cell_w/cell_h in pixels.
std::string svg_heatmap(const std::string& id, const std::vector<float>& values, int nx, int ny,
                        double cell_w, double cell_h, const std::string& caption);

// Viridis colour for t in [0, 1] as "#rrggbb".
std::string viridis(double t);

}  // namespace tkws
