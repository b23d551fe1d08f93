// SVG building blocks of the HTML reports (run report, keyword and stream reports): inline SVG
// text with escaped labels, no scripts. Axis scales: nice_step / tick_label; coordinates are
// written with svg_px (0.1 px) and svg_num (4 significant digits).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace tkws {

// Series colours shared by the reports (matplotlib's tab10 blue, red, green), and the font
// attribute every chart uses.
inline constexpr const char* kSvgBlue = "#1f77b4";
inline constexpr const char* kSvgRed = "#d62728";
inline constexpr const char* kSvgGreen = "#2ca02c";
inline constexpr const char* kSvgOrange = "#ff7f0e";
inline constexpr const char* kSvgFont = "font-family=\"sans-serif\"";

// Compact number for SVG coordinates and tick labels ("{:.4g}"), and a pixel position
// ("{:.1f}").
std::string svg_num(double v);
std::string svg_px(double v);

// The opening tag of a chart, then a newline: <svg id="ID" class="CLS" width="W" height="H"
// viewBox="0 0 W H" font-family="sans-serif" font-size="N"> with W and H as svg_px. `id` is
// written as given (no escaping).
std::string svg_open(const char* id, const char* cls, double w, double h, int font_size);

// "Nice" tick step (1, 2 or 5 x 10^k) giving about `target` intervals over [lo, hi].
double nice_step(double lo, double hi, int target);
// Tick text for v on an axis with ticks `step` apart: as many decimals as the step needs.
std::string tick_label(double v, double step);

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
