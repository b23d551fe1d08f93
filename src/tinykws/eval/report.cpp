#include "tinykws/eval/report.h"

#include "tinykws/eval/kws_report.h"
#include "tinykws/eval/report_charts.h"

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
  loss.series = {{"train", ep, col(&Epoch::train_loss), kSvgBlue, false},
                 {"val", ep, col(&Epoch::val_loss), kSvgRed, false}};
  loss.y_min = 0;
  loss.y_max = 0;
  LineChart acc = chart("chart-accuracy", "Accuracy", "accuracy");
  acc.series = {{"train", ep, col(&Epoch::train_acc), kSvgBlue, false},
                {"val", ep, col(&Epoch::val_acc), kSvgRed, false}};
  LineChart sp = chart("chart-sparsity", "Weight sparsity", "fraction of zero weights");
  sp.series = {{"sparsity", ep, col(&Epoch::sparsity), kSvgGreen, false}};
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
