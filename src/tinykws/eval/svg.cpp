// SVG building blocks of the HTML reports (svg.h): number formats, axis ticks, colours, line
// charts and heat maps. Text only: every label is escaped, nothing is fetched or scripted.
#include "tinykws/eval/svg.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace tkws {

std::string svg_num(double v) {
  return fmt::format("{:.4g}", v);
}
std::string svg_px(double v) {
  return fmt::format("{:.1f}", v);
}

std::string svg_open(const char* id, const char* cls, double w, double h, int font_size) {
  return fmt::format(
      "<svg id=\"{0}\" class=\"{1}\" width=\"{2}\" height=\"{3}\" viewBox=\"0 0 {2} {3}\" {4} "
      "font-size=\"{5}\">\n",
      id, cls, svg_px(w), svg_px(h), kSvgFont, font_size);
}

double nice_step(double lo, double hi, int target) {
  double raw = (hi - lo) / std::max(1, target);
  if (!(raw > 0)) return 1.0;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

std::string tick_label(double v, double step) {
  if (std::abs(v) < step * 1e-6) return "0";
  int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  if (std::abs(v) >= 1e5 || std::abs(v) < 1e-3) return fmt::format("{:.2g}", v);
  return fmt::format("{:.{}f}", v, decimals);
}

std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string viridis(double t) {
  // Matplotlib's viridis sampled at 9 points, linear interpolation between them.
  static const unsigned char kStops[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},
                                             {44, 113, 142}, {33, 144, 141}, {39, 173, 129},
                                             {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, 0.0, 1.0) * 8;
  const int i = std::min(7, static_cast<int>(t));
  const double f = t - i;
  int rgb[3];
  for (int k = 0; k < 3; ++k)
    rgb[k] = static_cast<int>(std::lround(kStops[i][k] + f * (kStops[i + 1][k] - kStops[i][k])));
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

std::string svg_heatmap(const std::string& id, const std::vector<float>& values, int nx, int ny,
                        double cell_w, double cell_h, const std::string& caption) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (float v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(hi > lo)) hi = lo + 1;
  const double top = 16, W = nx * cell_w, H = top + ny * cell_h;
  std::string s = fmt::format(
      "<svg id=\"{0}\" class=\"heatmap\" width=\"{1}\" "
      "height=\"{2}\" viewBox=\"0 0 {1} {2}\" {3} font-size=\"11\" shape-rendering=\"crispEdges\">"
      "<text x=\"0\" y=\"11\" fill=\"#555\">{4} ({5} x {6}; {7:.3g} .. {8:.3g})</text>\n",
      html_escape(id), svg_px(W), svg_px(H), kSvgFont, html_escape(caption), nx, ny, lo, hi);
  // One <rect> per cell; the cell is drawn slightly larger to hide anti-aliasing seams.
  for (int x = 0; x < nx; ++x)
    for (int y = 0; y < ny; ++y) {
      const float v = values[static_cast<size_t>(x) * ny + y];
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                       svg_num(x * cell_w), svg_num(top + (ny - 1 - y) * cell_h),
                       svg_num(cell_w + 0.3), svg_num(cell_h + 0.3), viridis((v - lo) / (hi - lo)));
    }
  s += "\n</svg>";
  return s;
}

std::string svg_line_chart(const LineChart& c) {
  const double W = c.width, H = c.height, l = 58, r = 12, t = 44, b = 40;
  const double pw = W - l - r, ph = H - t - b;
  auto ty = [&](double y) { return c.log_y ? (y > 0 ? std::log10(y) : NAN) : y; };
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (auto& se : c.series)
    for (size_t i = 0; i < se.x.size() && i < se.y.size(); ++i) {
      const double y = ty(se.y[i]);
      if (!std::isfinite(y) || !std::isfinite(se.x[i])) continue;
      x0 = std::min(x0, se.x[i]), x1 = std::max(x1, se.x[i]);
      y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  const bool has_data = std::isfinite(x0);
  if (!has_data) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (c.y_min != c.y_max) y0 = ty(c.y_min), y1 = ty(c.y_max);
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) {
    const double pad = std::abs(y0) > 0 ? std::abs(y0) * 0.1 : 1.0;
    y0 -= pad, y1 += pad;
  } else if (c.y_min == c.y_max) {
    const double pad = (y1 - y0) * 0.05;
    y0 -= pad, y1 += pad;
  }
  if (!c.log_y) {
    // Do not pad a non-negative series below zero.
    bool nonneg = true;
    for (auto& se : c.series)
      for (double v : se.y) nonneg = nonneg && !(v < 0);
    if (nonneg && y0 < 0) y0 = 0;
  }
  const double xs0 = x0, xs1 = x1;
  auto sx = [&](double x) { return l + pw * (x - xs0) / (xs1 - xs0); };
  auto sy = [&](double y) { return t + ph - ph * (ty(y) - y0) / (y1 - y0); };

  std::string s = fmt::format(
      "<svg id=\"{0}\" class=\"chart\" width=\"{1}\" "
      "height=\"{2}\" viewBox=\"0 0 {1} {2}\" {3} font-size=\"11\">\n",
      html_escape(c.id), svg_num(W), svg_num(H), kSvgFont);
  s += "<text x=\"4\" y=\"16\" font-size=\"14\" font-weight=\"bold\">" + html_escape(c.title) +
       "</text>\n";
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" "
      "stroke=\"#bbb\"/>\n",
      svg_px(l), svg_px(t), svg_px(pw), svg_px(ph));
  // Bands (clipped to the plot) and their captions.
  for (size_t i = 0; i < c.bands.size(); ++i) {
    const double a = std::max(l, sx(c.bands[i].first)), z = std::min(l + pw, sx(c.bands[i].second));
    if (z <= a) continue;
    s += fmt::format(
        "<rect class=\"band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
        "fill=\"#ffbb78\" fill-opacity=\"0.35\"/>\n",
        svg_px(a), svg_px(t), svg_px(z - a), svg_px(ph));
    if (i < c.band_labels.size())
      s +=
          fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#b25b00\">{}</text>\n",
                      svg_px((a + z) / 2), svg_px(t - 4), html_escape(c.band_labels[i]));
  }
  // Y grid and ticks.
  if (c.log_y) {
    for (double e = std::ceil(y0); e <= y1 + 1e-9; e += 1) {
      const double yy = t + ph - ph * (e - y0) / (y1 - y0);
      s += fmt::format(
          "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/>"
          "<text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
          svg_px(l), svg_px(l + pw), svg_px(yy), svg_px(l - 4), svg_px(yy + 4),
          fmt::format("{:g}", std::pow(10.0, e)));
    }
  } else {
    const double step = nice_step(y0, y1, 5);
    for (double y = std::ceil(y0 / step - 1e-9) * step; y <= y1 + step * 1e-9; y += step) {
      const double yy = t + ph - ph * (y - y0) / (y1 - y0);
      s += fmt::format(
          "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/>"
          "<text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
          svg_px(l), svg_px(l + pw), svg_px(yy), svg_px(l - 4), svg_px(yy + 4),
          tick_label(y, step));
    }
  }
  // X ticks.
  {
    double step = nice_step(xs0, xs1, 6);
    for (double x = std::ceil(xs0 / step - 1e-9) * step; x <= xs1 + step * 1e-9; x += step)
      s += fmt::format(
          "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#999\"/>"
          "<text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
          svg_px(sx(x)), svg_px(t + ph), svg_px(t + ph + 4), svg_px(t + ph + 15),
          tick_label(x, step));
  }
  for (auto& [x, label] : c.vlines) {
    if (x < xs0 || x > xs1) continue;
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#555\" "
        "stroke-dasharray=\"4,3\"/><text x=\"{3}\" y=\"{4}\" fill=\"#555\">{5}</text>\n",
        svg_px(sx(x)), svg_px(t), svg_px(t + ph), svg_px(sx(x) + 3), svg_px(t + ph - 4),
        html_escape(label));
  }
  // Series.
  for (auto& se : c.series) {
    std::string d;
    std::string dots;
    bool pen_down = false;
    for (size_t i = 0; i < se.x.size() && i < se.y.size(); ++i) {
      const double y = ty(se.y[i]);
      if (!std::isfinite(y) || !std::isfinite(se.x[i])) {
        pen_down = false;
        continue;
      }
      const double X = sx(se.x[i]), Y = sy(se.y[i]);
      d += fmt::format("{}{},{} ", pen_down ? "L" : "M", svg_px(X), svg_px(Y));
      pen_down = true;
      if (c.markers)
        dots += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.2\" fill=\"{}\"/>", svg_px(X),
                            svg_px(Y), se.color);
    }
    if (c.lines && !d.empty())
      s += fmt::format(
          "<path class=\"series\" d=\"{}\" fill=\"none\" stroke=\"{}\" "
          "stroke-width=\"1.8\"{}><title>{}</title></path>\n",
          d, se.color, se.dashed ? " stroke-dasharray=\"5,3\"" : "", html_escape(se.name));
    s += dots.empty() ? "" : dots + "\n";
  }
  // Legend (top right, above the plot) and axis labels.
  double lx = l + pw;
  for (auto it = c.series.rbegin(); it != c.series.rend(); ++it) {
    const double w = 26 + 6.5 * it->name.size();
    lx -= w;
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" "
        "stroke-width=\"2.5\"/><text x=\"{4}\" y=\"{5}\">{6}</text>\n",
        svg_px(lx), svg_px(lx + 16), svg_px(t - 18), it->color, svg_px(lx + 19), svg_px(t - 14),
        html_escape(it->name));
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\n",
                   svg_px(l + pw / 2), svg_px(H - 6), html_escape(c.x_label));
  s += fmt::format(
      "<text transform=\"translate(13,{}) rotate(-90)\" text-anchor=\"middle\" "
      "fill=\"#555\">{}</text>\n",
      svg_px(t + ph / 2), html_escape(c.y_label));
  if (!has_data)
    s +=
        fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#999\">no data</text>\n",
                    svg_px(l + pw / 2), svg_px(t + ph / 2));
  s += "</svg>";
  return s;
}

}  // namespace tkws
