#include "tinykws/eval/report.h"

#include "tinykws/eval/kws_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tinykws/audio/dataset.h"
#include "tinykws/audio/wav.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/eval/stream_report.h"
#include "tinykws/format/tkws.h"
#include "tinykws/frontend/frontend.h"
#include "tinykws/runtime/pipeline.h"

namespace tkws {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kTrainColor = "#1f77b4";  // blue
constexpr const char* kValColor = "#d62728";    // red
constexpr const char* kOtherColor = "#2ca02c";  // green
constexpr const char* kFont = "font-family=\"sans-serif\"";

// Compact number for SVG coordinates and tick labels.
std::string num(double v) {
  return fmt::format("{:.4g}", v);
}
std::string px(double v) {
  return fmt::format("{:.1f}", v);
}

// "Nice" tick step (1, 2 or 5 x 10^k) giving about `target` intervals over [lo, hi].
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

// Reads and parses a JSON file; InputError naming the file when it is not valid JSON.
json read_json(const fs::path& p) {
  std::string text;
  try {
    text = read_text_file(p.string());
  } catch (const std::exception&) {
    throw InputError(p.string() + ": cannot read file");
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw InputError(p.string() + ": not valid JSON: " + e.what());
  }
}

double num_or(const json& j, const char* key, double fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

// ---- run data ----

struct Epoch {
  int epoch = 0;
  std::string phase;
  double lr = 0, train_loss = 0, train_acc = 0, val_loss = 0, val_acc = 0, sparsity = 0,
         seconds = 0;
};

std::vector<Epoch> parse_history(const json& metrics, const std::string& file) {
  std::vector<Epoch> h;
  auto it = metrics.find("history");
  if (it == metrics.end() || !it->is_array())
    throw InputError(file +
                     ": no \"history\" array (expected the per-epoch records that "
                     "tinykws train writes)");
  for (const auto& e : *it) {
    if (!e.is_object()) throw InputError(file + ": history entries must be objects");
    Epoch r;
    r.epoch = static_cast<int>(num_or(e, "epoch", static_cast<double>(h.size() + 1)));
    r.phase = e.value("phase", std::string("train"));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    r.lr = num_or(e, "lr", nan);
    r.train_loss = num_or(e, "train_loss", nan);
    r.train_acc = num_or(e, "train_acc", nan);
    r.val_loss = num_or(e, "val_loss", nan);
    r.val_acc = num_or(e, "val_acc", nan);
    r.sparsity = num_or(e, "sparsity", nan);
    r.seconds = num_or(e, "seconds", nan);
    h.push_back(r);
  }
  return h;
}

// ---- page pieces ----

const char* kCss = R"(
body{font-family:sans-serif;margin:24px auto;max-width:1000px;color:#222;line-height:1.4}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.muted{color:#666;font-size:13px}
.missing{background:#fff6e0;border:1px solid #e8c66a;padding:8px 12px;font-size:14px;margin:8px 0}
.grid{display:flex;flex-wrap:wrap;gap:12px}.clip{border:1px solid #eee;padding:6px}
code{background:#f4f4f4;padding:1px 4px}svg{display:block}
)";

std::string missing_box(const std::string& what, const std::string& how) {
  return "<div class=\"missing\"><b>Missing:</b> " + html_escape(what) + "<br>" + how + "</div>\n";
}

std::string curves_section(const std::vector<Epoch>& h, const json& metrics) {
  std::vector<double> ep;
  auto col = [&](double Epoch::*f) {
    std::vector<double> v;
    for (const auto& e : h) v.push_back(e.*f);
    return v;
  };
  for (const auto& e : h) ep.push_back(e.epoch);
  // Clustering (or any non-"train" phase) as shaded bands of consecutive epochs.
  std::vector<std::pair<double, double>> bands;
  std::vector<std::string> band_labels;
  for (size_t i = 0; i < h.size();) {
    if (h[i].phase == "train") {
      ++i;
      continue;
    }
    size_t j = i;
    while (j + 1 < h.size() && h[j + 1].phase == h[i].phase) ++j;
    bands.push_back({h[i].epoch - 0.5, h[j].epoch + 0.5});
    band_labels.push_back(h[i].phase == "cluster" ? "clustering" : h[i].phase);
    i = j + 1;
  }
  std::vector<std::pair<double, std::string>> vlines;
  if (auto best = num_or(metrics, "best_epoch", 0); best > 0) vlines.push_back({best, "best"});

  auto chart = [&](std::string id, std::string title, std::string y_label) {
    LineChart c;
    c.id = std::move(id);
    c.title = std::move(title);
    c.x_label = "epoch";
    c.y_label = std::move(y_label);
    c.bands = bands;
    c.band_labels = band_labels;
    c.vlines = vlines;
    c.markers = h.size() <= 40;
    return c;
  };
  LineChart loss = chart("chart-loss", "Loss (cross-entropy)", "loss");
  loss.series = {{"train", ep, col(&Epoch::train_loss), kTrainColor, false},
                 {"val", ep, col(&Epoch::val_loss), kValColor, false}};
  loss.y_min = 0;
  loss.y_max = 0;
  LineChart acc = chart("chart-accuracy", "Accuracy", "accuracy");
  acc.series = {{"train", ep, col(&Epoch::train_acc), kTrainColor, false},
                {"val", ep, col(&Epoch::val_acc), kValColor, false}};
  LineChart sp = chart("chart-sparsity", "Weight sparsity", "fraction of zero weights");
  sp.series = {{"sparsity", ep, col(&Epoch::sparsity), kOtherColor, false}};
  sp.y_min = 0;
  sp.y_max = 1;
  LineChart lr = chart("chart-lr", "Learning rate", "learning rate");
  lr.series = {{"lr", ep, col(&Epoch::lr), "#9467bd", false}};

  std::string s = "<h2 id=\"curves\">Training curves</h2>\n";
  s += "<p class=\"muted\">Per epoch, from metrics.json.";
  if (!bands.empty())
    s += " The shaded band is the clustering phase (fine-tuning of clustered weights).";
  if (!vlines.empty())
    s += " The dashed line marks the epoch the model file holds (selected on validation accuracy, "
         "then loss).";
  s += "</p>\n<div class=\"grid\">\n";
  for (const LineChart* c : {&loss, &acc, &sp, &lr}) s += svg_line_chart(*c) + "\n";
  s += "</div>\n";
  return s;
}

std::string summary_section(const std::string& run_dir, const json& metrics, const json* eval) {
  std::string s = "<table>\n";
  auto row = [&](const std::string& k, const std::string& v) {
    s += "<tr><th class=\"l\">" + html_escape(k) + "</th><td class=\"l\">" + html_escape(v) +
         "</td></tr>\n";
  };
  auto pct = [](double v) { return fmt::format("{:.2f} %", 100.0 * v); };
  if (metrics.contains("val_accuracy"))
    row("validation accuracy (runtime, metrics.json)", pct(num_or(metrics, "val_accuracy", 0)));
  if (metrics.contains("model_bytes"))
    row("model file", fmt::format("{} bytes", num_or(metrics, "model_bytes", 0)));
  if (metrics.contains("parameters"))
    row("parameters", fmt::format("{}", num_or(metrics, "parameters", 0)));
  if (metrics.contains("quantize") && metrics["quantize"].is_string())
    row("quantisation", metrics["quantize"].get<std::string>());
  if (metrics.contains("sparsity")) row("final sparsity", pct(num_or(metrics, "sparsity", 0)));
  if (metrics.contains("epochs_run"))
    row("epochs", fmt::format("{} (best {})", num_or(metrics, "epochs_run", 0),
                              num_or(metrics, "best_epoch", 0)));
  if (metrics.contains("train_seconds"))
    row("training time", fmt::format("{:.1f} s", num_or(metrics, "train_seconds", 0)));
  if (metrics.contains("labels") && metrics["labels"].is_array()) {
    std::string l;
    for (auto& x : metrics["labels"]) l += (l.empty() ? "" : ", ") + x.get<std::string>();
    row("labels", l);
  }
  if (eval) {
    const json& e = *eval;
    row(fmt::format("accuracy (eval.json, {} split)", e.value("split", std::string("?"))),
        fmt::format("{} ({} errors in {} clips)", pct(num_or(e, "accuracy", 0)),
                    num_or(e, "errors", 0), num_or(e, "n", 0)));
    if (e.contains("zipped_bytes"))
      row("size / zipped",
          fmt::format("{} / {} bytes", num_or(e, "size_bytes", 0), num_or(e, "zipped_bytes", 0)));
    if (auto it = e.find("latency_ms"); it != e.end() && it->contains("total"))
      row("latency total (median ± std)",
          fmt::format("{:.4f} ± {:.4f} ms", num_or((*it)["total"], "median", 0),
                      num_or((*it)["total"], "std", 0)));
  }
  s += "</table>\n";
  return "<h1>tinykws run report</h1>\n<p class=\"muted\">" + html_escape(run_dir) + "</p>\n" + s;
}

std::string confusion_svg(const std::vector<std::string>& labels,
                          const std::vector<std::vector<int>>& cm) {
  const int L = static_cast<int>(labels.size());
  size_t longest = 4;
  for (auto& l : labels) longest = std::max(longest, l.size());
  const double cell = std::clamp(320.0 / std::max(1, L), 28.0, 90.0);
  const double left = 24 + 7.0 * std::min<size_t>(longest, 20), top = 40;
  const double W = left + cell * L + 20, H = top + cell * L + 50;
  std::string s = fmt::format(
      "<svg id=\"chart-confusion\" class=\"chart\" "
      "width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" {} font-size=\"12\">\n",
      px(W), px(H), px(W), px(H), kFont);
  s += fmt::format(
      "<text x=\"{}\" y=\"16\" font-size=\"14\" font-weight=\"bold\">Confusion "
      "matrix</text>\n<text x=\"{}\" y=\"30\" font-size=\"11\">rows: true label, "
      "columns: predicted</text>\n",
      px(4), px(4));
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
          px(x), px(y), px(cell), px(cell), base, a, html_escape(labels[i]), html_escape(labels[j]),
          v);
      s += fmt::format(
          "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" dominant-baseline=\"middle\" "
          "fill=\"{}\" font-size=\"{}\">{}</text>\n",
          px(x + cell / 2), px(y + cell / 2), a > 0.55 ? "#fff" : "#222", cell >= 40 ? 14 : 10, v);
    }
    s += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>\n",
        px(left - 6), px(top + i * cell + cell / 2), html_escape(labels[i]));
  }
  for (int j = 0; j < L; ++j)
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     px(left + j * cell + cell / 2), px(top + L * cell + 16),
                     html_escape(labels[j]));
  s +=
      fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">predicted</text>\n",
                  px(left + L * cell / 2), px(top + L * cell + 36));
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
  std::string s = fmt::format(
      "<svg id=\"chart-latency\" class=\"chart\" "
      "width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" {2} font-size=\"11\">\n",
      px(W), px(H), kFont);
  s += fmt::format(
      "<text x=\"4\" y=\"16\" font-size=\"14\" font-weight=\"bold\">Total latency per run "
      "({} kept runs)</text>\n",
      v.size());
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" "
      "stroke=\"#bbb\"/>\n",
      px(l), px(t), px(pw), px(ph));
  const double ystep = nice_step(0, cmax, 4);
  for (double y = 0; y <= cmax + 1e-9; y += ystep) {
    const double yy = t + ph - ph * y / (cmax * 1.05);
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/>"
        "<text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
        px(l), px(l + pw), px(yy), px(l - 4), px(yy + 4), tick_label(y, ystep));
  }
  for (int i = 0; i < bins; ++i) {
    const double bh = ph * count[i] / (cmax * 1.05);
    const double x0 = lo + (hi - lo) * i / bins, x1 = lo + (hi - lo) * (i + 1) / bins;
    s += fmt::format(
        "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
        "<title>{:.4f}-{:.4f} ms: {} runs</title></rect>\n",
        px(l + pw * i / bins + 0.5), px(t + ph - bh), px(std::max(0.5, pw / bins - 1)), px(bh),
        kTrainColor, x0, x1, count[i]);
  }
  const double xstep = nice_step(lo, hi, 5);
  for (double x = std::ceil(lo / xstep) * xstep; x <= hi + 1e-12; x += xstep) {
    const double xx = l + pw * (x - lo) / (hi - lo);
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#999\"/>"
        "<text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        px(xx), px(t + ph), px(t + ph + 4), px(t + ph + 16), tick_label(x, xstep));
  }
  const double mx = l + pw * (med - lo) / (hi - lo);
  s += fmt::format(
      "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\" "
      "stroke-dasharray=\"5,3\"/><text x=\"{4}\" y=\"{5}\" fill=\"{3}\">median {6:.4f} ms</text>\n",
      px(mx), px(t), px(t + ph), kValColor, px(std::min(mx + 4, l + pw - 110)), px(t + 12), med);
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">total time per "
      "clip, ms (runs above the 99th percentile, max {:.4f} ms, counted in the last "
      "bin)</text>\n",
      px(l + pw / 2), px(H - 6), v.back());
  s += fmt::format(
      "<text transform=\"translate(14,{}) rotate(-90)\" text-anchor=\"middle\" "
      "fill=\"#555\">runs</text>\n",
      px(t + ph / 2));
  s += "</svg>";
  return s;
}

std::string eval_section(const json* eval, const std::string& run_dir,
                         std::vector<std::string>* missing) {
  std::string s = "<h2 id=\"eval\">Evaluation</h2>\n";
  const std::string how = "Produce it with <code>tinykws eval --model " + html_escape(run_dir) +
                          "/model.tkws --data DIR --split val --json " + html_escape(run_dir) +
                          "/eval.json</code>.";
  if (!eval) {
    missing->push_back("confusion matrix and latency: no eval.json in " + run_dir +
                       " (run `tinykws eval --model " + run_dir + "/model.tkws --data DIR --json " +
                       run_dir + "/eval.json`)");
    return s + missing_box("confusion matrix and latency distribution (no eval.json)", how);
  }
  const json& e = *eval;
  std::vector<std::string> labels;
  std::vector<std::vector<int>> cm;
  try {
    labels = e.at("labels").get<std::vector<std::string>>();
    cm = e.at("confusion").get<std::vector<std::vector<int>>>();
  } catch (const json::exception&) {
    labels.clear();
  }
  bool cm_ok = !labels.empty() && cm.size() == labels.size();
  for (auto& row : cm) cm_ok = cm_ok && row.size() == labels.size();
  s += fmt::format("<p class=\"muted\">From eval.json: {} split of {}, {} clips.</p>\n",
                   html_escape(e.value("split", std::string("?"))),
                   html_escape(e.value("data", std::string("?"))), num_or(e, "n", 0));
  s += "<div class=\"grid\">\n";
  if (cm_ok) {
    s += confusion_svg(labels, cm) + "\n";
  } else {
    missing->push_back("confusion matrix: eval.json has no consistent labels/confusion");
    s += missing_box("confusion matrix (eval.json has no consistent labels/confusion)", how);
  }
  std::vector<double> samples;
  const json* lat = nullptr;
  if (auto it = e.find("latency_ms"); it != e.end() && it->is_object()) {
    lat = &*it;
    if (auto st = it->find("samples_total"); st != it->end() && st->is_array())
      for (auto& x : *st)
        if (x.is_number()) samples.push_back(x.get<double>());
  }
  if (!samples.empty()) {
    s += latency_svg(samples) + "\n";
  } else {
    missing->push_back(
        "latency distribution: eval.json has no latency_ms.samples_total "
        "(written by this version of tinykws eval --json)");
    s += missing_box("latency distribution (eval.json has no latency_ms.samples_total)",
                     "Re-run the evaluation with this version of tinykws: " + how);
  }
  s += "</div>\n";
  if (lat) {
    s += "<table><tr><th class=\"l\">latency (course protocol)</th><th>median, ms</th>"
         "<th>std, ms</th></tr>\n";
    for (const char* part : {"preprocess", "model", "total"})
      if (auto it = lat->find(part); it != lat->end() && it->is_object())
        s += fmt::format("<tr><td class=\"l\">{}</td><td>{:.4f}</td><td>{:.4f}</td></tr>\n", part,
                         num_or(*it, "median", 0), num_or(*it, "std", 0));
    s += fmt::format(
        "</table><p class=\"muted\">{} runs, first {} discarded, {} thread(s), "
        "pause {} ms between runs.</p>\n",
        num_or(*lat, "runs", 0), num_or(*lat, "discarded", 0), num_or(*lat, "threads", 1),
        num_or(*lat, "pause_ms", 0));
  }
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
  std::string s = fmt::format(
      "<svg id=\"chart-tensors\" class=\"chart\" "
      "width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" {2} font-size=\"11\">\n",
      px(W), px(H), kFont);
  s += fmt::format(
      "<text x=\"4\" y=\"16\" font-size=\"14\" font-weight=\"bold\">Stored bytes per tensor "
      "(grey: the same tensor dense) and sparsity</text>\n"
      "<text x=\"{}\" y=\"36\" fill=\"#555\">bytes in the file (scale: {} bytes = full bar)</text>"
      "<text x=\"{}\" y=\"36\" fill=\"#555\">zero weights</text>\n",
      px(x_bytes), max_bytes, px(x_sp));
  for (int i = 0; i < n; ++i) {
    const TensorStorage& ts = st[i];
    const double y = top + i * row;
    std::string enc = encoding_name(ts.encoding);
    if (ts.clusters) enc += fmt::format(" k{}{}", ts.clusters, ts.rows > 1 ? "/row" : "");
    const double wd = bar_w * ts.dense_bytes / max_bytes, wp = bar_w * ts.payload_bytes / max_bytes;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", px(name_w - 6),
                     px(y + 13), html_escape(m.tensors[i].name));
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"#ddd\"/>\n",
                     px(x_bytes), px(y + 2), px(std::max(0.5, wd)));
    s += fmt::format(
        "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"{}\">"
        "<title>{}: {} bytes stored ({}), {} bytes dense, {} values, {:.2f} bits/value</title>"
        "</rect>\n",
        px(x_bytes), px(y + 2), px(std::max(0.5, wp)), kTrainColor, html_escape(m.tensors[i].name),
        ts.payload_bytes, html_escape(enc), ts.dense_bytes, ts.numel, ts.bits_per_value());
    s +=
        fmt::format("<text x=\"{}\" y=\"{}\">{} B, {}</text>\n", px(x_bytes + std::max(wd, wp) + 4),
                    px(y + 13), ts.payload_bytes, html_escape(enc));
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"#f0f0f0\"/>",
                     px(x_sp), px(y + 2), px(sp_w));
    s += fmt::format(
        "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"{}\">"
        "<title>{}: {:.1f} % zeros</title></rect>"
        "<text x=\"{}\" y=\"{}\">{:.0f} %</text>\n",
        px(x_sp), px(y + 2), px(sp_w * ts.sparsity()), kOtherColor, html_escape(m.tensors[i].name),
        100.0 * ts.sparsity(), px(x_sp + sp_w + 4), px(y + 13), 100.0 * ts.sparsity());
  }
  s += "</svg>";
  return s;
}

std::string model_section(const fs::path& model_path, const Model* m,
                          std::vector<std::string>* missing) {
  std::string s = "<h2 id=\"model\">Model file</h2>\n";
  if (!m) {
    missing->push_back("tensor sizes: no model.tkws in " + model_path.parent_path().string());
    return s + missing_box("per-tensor size and sparsity (no model.tkws)",
                           "<code>tinykws train --out RUN_DIR</code> writes it.");
  }
  std::vector<TensorStorage> st = describe_storage(*m);
  uint64_t total = 0, dense = 0, zeros = 0, numel = 0;
  for (auto& t : st)
    total += t.payload_bytes, dense += t.dense_bytes, zeros += t.zeros, numel += t.numel;
  std::error_code ec;
  const auto file_bytes = fs::file_size(model_path, ec);
  s += fmt::format(
      "<p class=\"muted\">{}: {} bytes on disk, {} bytes of tensor payloads ({} bytes stored "
      "dense), {} values, {:.1f} % zeros.</p>\n",
      html_escape(model_path.filename().string()), ec ? 0 : file_bytes, total, dense, numel,
      numel ? 100.0 * zeros / numel : 0.0);
  return s + tensors_svg(*m, st) + "\n";
}

std::string spectro_section(const ReportOptions& opt, const Model* m,
                            std::vector<std::string>* missing) {
  std::string s = "<h2 id=\"features\">Spectrograms and features</h2>\n";
  const std::string how =
      "Pass <code>--data DIR</code> (or set <code>TINYKWS_DATA</code>) to draw the first " +
      std::to_string(opt.clips_per_label) + " validation clips of each label.";
  if (!m) {
    missing->push_back("spectrograms: need model.tkws for its front end");
    return s + missing_box("spectrograms (no model.tkws: its front end computes them)", how);
  }
  if (opt.data_dirs.empty()) {
    missing->push_back("spectrograms: no dataset (pass --data DIR)");
    return s + missing_box("spectrograms (no dataset given)", how);
  }
  Dataset ds;
  try {
    try {
      ds = scan_datasets(opt.data_dirs, m->labels);
    } catch (const InputError&) {
      ds = scan_datasets(opt.data_dirs);  // e.g. _unknown_ has no folder: take what exists
    }
  } catch (const InputError& e) {
    missing->push_back(std::string("spectrograms: ") + e.what());
    return s + missing_box(std::string("spectrograms (") + e.what() + ")", how);
  }
  std::vector<const ClipRef*> refs;
  std::string split;
  for (Split sp : {Split::kVal, Split::kTest, Split::kTrain}) {
    refs = ds.select(sp);
    split = split_name(sp);
    if (!refs.empty()) break;
  }
  std::vector<const ClipRef*> chosen;
  const int L = std::min<int>(static_cast<int>(ds.labels.size()), opt.max_labels);
  for (int l = 0; l < L; ++l) {
    int k = 0;
    for (const ClipRef* r : refs)
      if (r->label == l && k < opt.clips_per_label) chosen.push_back(r), ++k;
  }
  const FrontendConfig& fe = m->frontend;
  FrontendConfig mel_cfg = fe;
  mel_cfg.kind = FeatureKind::kLogMel;
  Frontend mel(mel_cfg);
  KwsPipeline pipe;
  const bool pipe_ok = pipe.create(*m).ok();
  Frontend raw(fe);
  if (!mel.ok() || !raw.ok()) {
    missing->push_back("spectrograms: the model's front-end settings are invalid");
    return s + missing_box("spectrograms (invalid front-end settings in model.tkws)", how);
  }
  const int T = mel.num_frames(), M = mel.num_features(), F = raw.num_features();
  const bool mfcc = fe.kind == FeatureKind::kMfcc;
  s += fmt::format(
      "<p class=\"muted\">{} split of {}: the first {} clip(s) of each label, computed with the "
      "model's front end ({} Hz, frame {} / step {} samples, {} mel bands {:.0f}-{:.0f} Hz). "
      "Left: log-mel spectrogram ({} frames x {} bands, low frequencies at the bottom). Right: "
      "the network's input, {} ({} frames x {}{}). Colours: viridis, each image scaled to its "
      "own range.</p>\n<div class=\"grid\">\n",
      split, html_escape(ds.root), opt.clips_per_label, fe.sample_rate, fe.frame_length,
      fe.frame_step, fe.num_mel_bins, fe.lower_hz, fe.upper_hz, T, M, mfcc ? "MFCC" : "log-mel", T,
      F, mfcc ? " coefficients" : " bands",
      pipe_ok && !m->norm_mean.empty() ? ", normalised per coefficient" : "");
  std::vector<float> a(static_cast<size_t>(T) * M), b(static_cast<size_t>(T) * F);
  const double cw = 4.0;
  for (size_t i = 0; i < chosen.size(); ++i) {
    std::vector<float> clip;
    try {
      clip = read_audio(chosen[i]->path, fe.sample_rate);
    } catch (const InputError& e) {
      s += missing_box(std::string("clip ") + e.what(), "");
      missing->push_back(std::string("spectrogram clip: ") + e.what());
      continue;
    }
    fit_length(clip, fe.clip_samples);
    mel.compute(clip.data(), a.data());
    if (pipe_ok)
      (void)pipe.features(clip.data(), b.data());
    else
      raw.compute(clip.data(), b.data());
    const std::string label = ds.labels[chosen[i]->label];
    s += "<div class=\"clip\"><div><b>" + html_escape(label) + "</b> <span class=\"muted\">" +
         html_escape(chosen[i]->rel) + "</span></div>\n";
    s += svg_heatmap(fmt::format("spec-{}", i), a, T, M, cw, std::max(2.0, 160.0 / M), "log-mel") +
         "\n";
    s += svg_heatmap(fmt::format("feat-{}", i), b, T, F, cw, std::max(2.0, 160.0 / F),
                     mfcc ? "MFCC (network input)" : "network input") +
         "</div>\n";
  }
  s += "</div>\n";
  if (chosen.empty()) {
    missing->push_back("spectrograms: no clips found in " + ds.root);
    s += missing_box("spectrograms (no clips in the dataset)", how);
  }
  return s;
}

}  // namespace

// ---- public helpers ----

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
      html_escape(id), px(W), px(H), kFont, html_escape(caption), nx, ny, lo, hi);
  // One <rect> per cell; the cell is drawn slightly larger to hide anti-aliasing seams.
  for (int x = 0; x < nx; ++x)
    for (int y = 0; y < ny; ++y) {
      const float v = values[static_cast<size_t>(x) * ny + y];
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                       num(x * cell_w), num(top + (ny - 1 - y) * cell_h), num(cell_w + 0.3),
                       num(cell_h + 0.3), viridis((v - lo) / (hi - lo)));
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
      html_escape(c.id), num(W), num(H), kFont);
  s += "<text x=\"4\" y=\"16\" font-size=\"14\" font-weight=\"bold\">" + html_escape(c.title) +
       "</text>\n";
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" "
      "stroke=\"#bbb\"/>\n",
      px(l), px(t), px(pw), px(ph));
  // Bands (clipped to the plot) and their captions.
  for (size_t i = 0; i < c.bands.size(); ++i) {
    const double a = std::max(l, sx(c.bands[i].first)), z = std::min(l + pw, sx(c.bands[i].second));
    if (z <= a) continue;
    s += fmt::format(
        "<rect class=\"band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
        "fill=\"#ffbb78\" fill-opacity=\"0.35\"/>\n",
        px(a), px(t), px(z - a), px(ph));
    if (i < c.band_labels.size())
      s +=
          fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#b25b00\">{}</text>\n",
                      px((a + z) / 2), px(t - 4), html_escape(c.band_labels[i]));
  }
  // Y grid and ticks.
  if (c.log_y) {
    for (double e = std::ceil(y0); e <= y1 + 1e-9; e += 1) {
      const double yy = t + ph - ph * (e - y0) / (y1 - y0);
      s += fmt::format(
          "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/>"
          "<text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
          px(l), px(l + pw), px(yy), px(l - 4), px(yy + 4), fmt::format("{:g}", std::pow(10.0, e)));
    }
  } else {
    const double step = nice_step(y0, y1, 5);
    for (double y = std::ceil(y0 / step - 1e-9) * step; y <= y1 + step * 1e-9; y += step) {
      const double yy = t + ph - ph * (y - y0) / (y1 - y0);
      s += fmt::format(
          "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/>"
          "<text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
          px(l), px(l + pw), px(yy), px(l - 4), px(yy + 4), tick_label(y, step));
    }
  }
  // X ticks.
  {
    double step = nice_step(xs0, xs1, 6);
    for (double x = std::ceil(xs0 / step - 1e-9) * step; x <= xs1 + step * 1e-9; x += step)
      s += fmt::format(
          "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#999\"/>"
          "<text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
          px(sx(x)), px(t + ph), px(t + ph + 4), px(t + ph + 15), tick_label(x, step));
  }
  for (auto& [x, label] : c.vlines) {
    if (x < xs0 || x > xs1) continue;
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#555\" "
        "stroke-dasharray=\"4,3\"/><text x=\"{3}\" y=\"{4}\" fill=\"#555\">{5}</text>\n",
        px(sx(x)), px(t), px(t + ph), px(sx(x) + 3), px(t + ph - 4), html_escape(label));
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
      d += fmt::format("{}{},{} ", pen_down ? "L" : "M", px(X), px(Y));
      pen_down = true;
      if (c.markers)
        dots += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.2\" fill=\"{}\"/>", px(X), px(Y),
                            se.color);
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
        px(lx), px(lx + 16), px(t - 18), it->color, px(lx + 19), px(t - 14), html_escape(it->name));
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\n",
                   px(l + pw / 2), px(H - 6), html_escape(c.x_label));
  s += fmt::format(
      "<text transform=\"translate(13,{}) rotate(-90)\" text-anchor=\"middle\" "
      "fill=\"#555\">{}</text>\n",
      px(t + ph / 2), html_escape(c.y_label));
  if (!has_data)
    s +=
        fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#999\">no data</text>\n",
                    px(l + pw / 2), px(t + ph / 2));
  s += "</svg>";
  return s;
}

// ---- the page ----

std::string render_report(const ReportOptions& opt, std::vector<std::string>* missing_out) {
  std::vector<std::string> missing;
  const fs::path dir(opt.run_dir);
  if (opt.run_dir.empty() || !fs::is_directory(dir))
    throw InputError(opt.run_dir +
                     ": not a folder (expected a run folder written by "
                     "`tinykws train --out DIR`)");
  const fs::path metrics_path = dir / "metrics.json";
  if (!fs::is_regular_file(metrics_path))
    throw InputError(opt.run_dir +
                     ": no metrics.json in this folder (expected a run folder "
                     "written by `tinykws train --out DIR`)");
  const json metrics = read_json(metrics_path);
  if (!metrics.is_object()) throw InputError(metrics_path.string() + ": expected a JSON object");
  const std::vector<Epoch> history = parse_history(metrics, metrics_path.string());

  json eval;
  const bool has_eval = fs::is_regular_file(dir / "eval.json");
  if (has_eval) {
    eval = read_json(dir / "eval.json");
    if (!eval.is_object()) throw InputError((dir / "eval.json").string() + ": expected an object");
  }
  Model model;
  const bool has_model = fs::is_regular_file(dir / "model.tkws");
  if (has_model) model = read_model((dir / "model.tkws").string());

  std::string body;
  body += summary_section(opt.run_dir, metrics, has_eval ? &eval : nullptr);
  body += curves_section(history, metrics);
  body += eval_section(has_eval ? &eval : nullptr, opt.run_dir, &missing);
  if (has_eval && eval.contains("kws"))
    body += kws_report_section(eval["kws"], "eval.json");
  else if (metrics.contains("kws"))
    body += kws_report_section(metrics["kws"], "metrics.json (validation split, at training)");
  body += model_section(dir / "model.tkws", has_model ? &model : nullptr, &missing);
  body += spectro_section(opt, has_model ? &model : nullptr, &missing);
  if (fs::is_regular_file(dir / "stream_eval.json"))  // `stream-eval --json RUN_DIR/...`
    body += stream_eval_section(read_json(dir / "stream_eval.json"), "stream_eval.json");

  std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<title>tinykws report: " + html_escape(dir.filename().string()) + "</title>\n";
  page += std::string("<style>") + kCss + "</style>\n</head>\n<body>\n" + body;
  page +=
      "<p class=\"muted\">Written by <code>tinykws report</code>; self-contained (inline SVG, "
      "no scripts, no network).</p>\n</body>\n</html>\n";
  if (missing_out) *missing_out = std::move(missing);
  return page;
}

ReportResult write_report(const ReportOptions& opt) {
  ReportResult r;
  const std::string page = render_report(opt, &r.missing);
  r.out_path =
      opt.out_path.empty() ? (fs::path(opt.run_dir) / "report.html").string() : opt.out_path;
  write_file_atomic(r.out_path, page);
  r.bytes = page.size();
  return r;
}

}  // namespace tkws
