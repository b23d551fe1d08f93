// The run report's own charts (report_charts.h): confusion matrix, latency histogram and the
// per-tensor storage bars, drawn with the building blocks of svg.h.
#include "tinykws/eval/report_charts.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "tinykws/eval/svg.h"

namespace tkws {

std::string confusion_svg(const std::vector<std::string>& labels,
                          const std::vector<std::vector<int>>& cm) {
  const int L = static_cast<int>(labels.size());
  size_t longest = 4;
  for (auto& l : labels) longest = std::max(longest, l.size());
  const double cell = std::clamp(320.0 / std::max(1, L), 28.0, 90.0);
  const double left = 24 + 7.0 * std::min<size_t>(longest, 20), top = 40;
  const double W = left + cell * L + 20, H = top + cell * L + 50;
  std::string s = svg_open("chart-confusion", "chart", W, H, 12);
  s += fmt::format(
      "<text x=\"{}\" y=\"16\" font-size=\"14\" font-weight=\"bold\">Confusion "
      "matrix</text>\n<text x=\"{}\" y=\"30\" font-size=\"11\">rows: true label, "
      "columns: predicted</text>\n",
      svg_px(4), svg_px(4));
  for (int i = 0; i < L; ++i) {
    int row_total = 0;
    for (int v : cm[i]) row_total += v;
    for (int j = 0; j < L; ++j) {
      const int v = cm[i][j];
      const double frac = row_total ? static_cast<double>(v) / row_total : 0.0;
      // Correct cells in blues, errors in reds; darker = larger share of the row.
      const double a = v == 0 ? 0.04 : 0.15 + 0.85 * frac;
      const char* base = i == j ? "31,119,180" : "214,39,40";
      const double x = left + j * cell, y = top + i * cell;
      s += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"rgba({},{:.3f})\" "
          "stroke=\"#999\"><title>true {} / predicted {}: {}</title></rect>\n",
          svg_px(x), svg_px(y), svg_px(cell), svg_px(cell), base, a, html_escape(labels[i]),
          html_escape(labels[j]), v);
      s += fmt::format(
          "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" dominant-baseline=\"middle\" "
          "fill=\"{}\" font-size=\"{}\">{}</text>\n",
          svg_px(x + cell / 2), svg_px(y + cell / 2), a > 0.55 ? "#fff" : "#222",
          cell >= 40 ? 14 : 10, v);
    }
    s += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>\n",
        svg_px(left - 6), svg_px(top + i * cell + cell / 2), html_escape(labels[i]));
  }
  for (int j = 0; j < L; ++j)
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     svg_px(left + j * cell + cell / 2), svg_px(top + L * cell + 16),
                     html_escape(labels[j]));
  s +=
      fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">predicted</text>\n",
                  svg_px(left + L * cell / 2), svg_px(top + L * cell + 36));
  s += "</svg>";
  return s;
}

// Histogram of latency samples (ms) with the median marked.
std::string latency_svg(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const double med = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  // Clip the range at the 99th percentile so one outlier does not squash the histogram;
  // the samples above it fall into the last bin, whose caption says so.
  const double lo = v.front();
  const double p99 = v[std::min(v.size() - 1, static_cast<size_t>(0.99 * v.size()))];
  const double hi = std::max(p99, lo + 1e-6);
  const int bins = std::clamp(static_cast<int>(std::sqrt(v.size())) * 2, 10, 40);
  std::vector<int> count(bins, 0);
  for (double x : v) {
    int b = static_cast<int>((x - lo) / (hi - lo) * bins);
    count[std::clamp(b, 0, bins - 1)]++;
  }
  const int cmax = *std::max_element(count.begin(), count.end());
  const double W = 520, H = 260, l = 56, r = 16, t = 30, b = 44;
  const double pw = W - l - r, ph = H - t - b;
  std::string s = svg_open("chart-latency", "chart", W, H, 11);
  s += fmt::format(
      "<text x=\"4\" y=\"16\" font-size=\"14\" font-weight=\"bold\">Total latency per run "
      "({} kept runs)</text>\n",
      v.size());
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" "
      "stroke=\"#bbb\"/>\n",
      svg_px(l), svg_px(t), svg_px(pw), svg_px(ph));
  const double ystep = nice_step(0, cmax, 4);
  for (double y = 0; y <= cmax + 1e-9; y += ystep) {
    const double yy = t + ph - ph * y / (cmax * 1.05);
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/>"
        "<text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
        svg_px(l), svg_px(l + pw), svg_px(yy), svg_px(l - 4), svg_px(yy + 4), tick_label(y, ystep));
  }
  for (int i = 0; i < bins; ++i) {
    const double bh = ph * count[i] / (cmax * 1.05);
    const double x0 = lo + (hi - lo) * i / bins, x1 = lo + (hi - lo) * (i + 1) / bins;
    s += fmt::format(
        "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
        "<title>{:.4f}-{:.4f} ms: {} runs</title></rect>\n",
        svg_px(l + pw * i / bins + 0.5), svg_px(t + ph - bh), svg_px(std::max(0.5, pw / bins - 1)),
        svg_px(bh), kSvgBlue, x0, x1, count[i]);
  }
  const double xstep = nice_step(lo, hi, 5);
  for (double x = std::ceil(lo / xstep) * xstep; x <= hi + 1e-12; x += xstep) {
    const double xx = l + pw * (x - lo) / (hi - lo);
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#999\"/>"
        "<text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        svg_px(xx), svg_px(t + ph), svg_px(t + ph + 4), svg_px(t + ph + 16), tick_label(x, xstep));
  }
  const double mx = l + pw * (med - lo) / (hi - lo);
  s += fmt::format(
      "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\" "
      "stroke-dasharray=\"5,3\"/><text x=\"{4}\" y=\"{5}\" fill=\"{3}\">median {6:.4f} ms</text>\n",
      svg_px(mx), svg_px(t), svg_px(t + ph), kSvgRed, svg_px(std::min(mx + 4, l + pw - 110)),
      svg_px(t + 12), med);
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">total time per "
      "clip, ms (runs above the 99th percentile, max {:.4f} ms, counted in the last "
      "bin)</text>\n",
      svg_px(l + pw / 2), svg_px(H - 6), v.back());
  s += fmt::format(
      "<text transform=\"translate(14,{}) rotate(-90)\" text-anchor=\"middle\" "
      "fill=\"#555\">runs</text>\n",
      svg_px(t + ph / 2));
  s += "</svg>";
  return s;
}

std::string tensors_svg(const Model& m, const std::vector<TensorStorage>& st) {
  const int n = static_cast<int>(m.tensors.size());
  size_t longest = 6;
  for (auto& t : m.tensors) longest = std::max(longest, t.name.size());
  const double name_w = 12 + 6.6 * std::min<size_t>(longest, 32);
  const double row = 20, top = 46, bar_w = 330, gap = 150, sp_w = 150;
  const double x_bytes = name_w, x_sp = name_w + bar_w + gap;
  const double W = x_sp + sp_w + 50, H = top + row * n + 30;
  uint64_t max_bytes = 1;
  for (auto& s : st) max_bytes = std::max({max_bytes, s.payload_bytes, s.dense_bytes});
  std::string s = svg_open("chart-tensors", "chart", W, H, 11);
  s += fmt::format(
      "<text x=\"4\" y=\"16\" font-size=\"14\" font-weight=\"bold\">Stored bytes per tensor "
      "(grey: the same tensor dense) and sparsity</text>\n"
      "<text x=\"{}\" y=\"36\" fill=\"#555\">bytes in the file (scale: {} bytes = full bar)</text>"
      "<text x=\"{}\" y=\"36\" fill=\"#555\">zero weights</text>\n",
      svg_px(x_bytes), max_bytes, svg_px(x_sp));
  for (int i = 0; i < n; ++i) {
    const TensorStorage& ts = st[i];
    const double y = top + i * row;
    std::string enc = encoding_name(ts.encoding);
    if (ts.clusters) enc += fmt::format(" k{}{}", ts.clusters, ts.rows > 1 ? "/row" : "");
    const double wd = bar_w * ts.dense_bytes / max_bytes, wp = bar_w * ts.payload_bytes / max_bytes;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", svg_px(name_w - 6),
                     svg_px(y + 13), html_escape(m.tensors[i].name));
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"#ddd\"/>\n",
                     svg_px(x_bytes), svg_px(y + 2), svg_px(std::max(0.5, wd)));
    s += fmt::format(
        "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"{}\">"
        "<title>{}: {} bytes stored ({}), {} bytes dense, {} values, {:.2f} bits/value</title>"
        "</rect>\n",
        svg_px(x_bytes), svg_px(y + 2), svg_px(std::max(0.5, wp)), kSvgBlue,
        html_escape(m.tensors[i].name), ts.payload_bytes, html_escape(enc), ts.dense_bytes,
        ts.numel, ts.bits_per_value());
    s += fmt::format("<text x=\"{}\" y=\"{}\">{} B, {}</text>\n",
                     svg_px(x_bytes + std::max(wd, wp) + 4), svg_px(y + 13), ts.payload_bytes,
                     html_escape(enc));
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"#f0f0f0\"/>",
                     svg_px(x_sp), svg_px(y + 2), svg_px(sp_w));
    s += fmt::format(
        "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"{}\">"
        "<title>{}: {:.1f} % zeros</title></rect>"
        "<text x=\"{}\" y=\"{}\">{:.0f} %</text>\n",
        svg_px(x_sp), svg_px(y + 2), svg_px(sp_w * ts.sparsity()), kSvgGreen,
        html_escape(m.tensors[i].name), 100.0 * ts.sparsity(), svg_px(x_sp + sp_w + 4),
        svg_px(y + 13), 100.0 * ts.sparsity());
  }
  s += "</svg>";
  return s;
}

}  // namespace tkws
