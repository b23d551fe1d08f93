// Streaming benchmark scoring (stream_metrics.h).
#include "tinykws/eval/stream_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "tinykws/common/csv.h"
#include "tinykws/common/error.h"

namespace tkws {
namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return s.substr(a, b - a);
}

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> f;
  size_t at = 0;
  for (;;) {
    const size_t c = line.find(',', at);
    f.push_back(trim(line.substr(at, c == std::string::npos ? std::string::npos : c - at)));
    if (c == std::string::npos) return f;
    at = c + 1;
  }
}

// A finite decimal number filling the whole field, or false.
bool parse_number(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*v);
}

}  // namespace

std::vector<StreamLabel> parse_stream_labels(const std::string& text,
                                             const std::string& source_name) {
  std::vector<StreamLabel> rows;
  bool header = false;
  size_t at = 0;
  for (int line_no = 1; at <= text.size(); ++line_no) {
    const size_t nl = text.find('\n', at);
    const std::string line =
        trim(text.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
    at = nl == std::string::npos ? text.size() + 1 : nl + 1;
    if (line.empty()) continue;
    auto bad = [&](const std::string& what) {
      return InputError(source_name + ":" + std::to_string(line_no) + ": " + what);
    };
    const std::vector<std::string> f = split_commas(line);
    if (!header) {
      if (f != std::vector<std::string>{"start_s", "end_s", "label"})
        throw bad("expected the header 'start_s,end_s,label', found '" + line + "'");
      header = true;
      continue;
    }
    if (f.size() != 3)
      throw bad("expected 3 fields (start_s,end_s,label), found " + std::to_string(f.size()));
    StreamLabel r;
    if (!parse_number(f[0], &r.start_s) || r.start_s < 0)
      throw bad("start_s '" + f[0] + "' is not a number >= 0");
    if (!parse_number(f[1], &r.end_s) || r.end_s < r.start_s)
      throw bad("end_s '" + f[1] + "' is not a number >= start_s");
    if (f[2].empty()) throw bad("empty label");
    r.label = f[2];
    rows.push_back(std::move(r));
  }
  if (!header) throw InputError(source_name + ": empty, expected the header 'start_s,end_s,label'");
  return rows;
}

StreamScore score_stream(const std::vector<StreamLabel>& labels,
                         const std::vector<StreamDetection>& detections,
                         const std::function<bool(const std::string&)>& is_keyword, double audio_s,
                         double window_after_s) {
  StreamScore s;
  s.audio_s = audio_s;
  std::vector<const StreamLabel*> kw;
  for (const StreamLabel& l : labels) {
    if (is_keyword(l.label))
      kw.push_back(&l);
    else
      ++s.distractors;
  }
  std::sort(kw.begin(), kw.end(),
            [](const StreamLabel* a, const StreamLabel* b) { return a->start_s < b->start_s; });
  s.keywords = static_cast<int>(kw.size());
  std::vector<bool> hit(kw.size(), false);
  // 0 hit, 1 duplicate, 2 wrong label, 3 false accept.
  auto classify = [&](const StreamDetection& d) {
    bool in_window = false, same_label = false;
    for (size_t k = 0; k < kw.size(); ++k) {
      if (d.time_s < kw[k]->start_s || d.time_s > kw[k]->end_s + window_after_s) continue;
      in_window = true;
      if (kw[k]->label != d.label) continue;
      same_label = true;
      if (hit[k]) continue;
      hit[k] = true;  // the earliest unmatched keyword of this label takes the detection
      s.delays_s.push_back(d.time_s - kw[k]->end_s);
      return 0;
    }
    return same_label ? 1 : in_window ? 2 : 3;
  };
  for (const StreamDetection& d : detections) {
    switch (classify(d)) {
      case 0:
        ++s.hits;
        break;
      case 1:
        ++s.duplicates;
        break;
      case 2:
        ++s.wrong_label;
        break;
      default:
        ++s.false_accepts;
    }
  }
  s.misses = s.keywords - s.hits;
  s.miss_rate = s.keywords ? static_cast<double>(s.misses) / s.keywords : 0.0;
  s.fa_per_hour = audio_s > 0 ? s.false_accepts / (audio_s / 3600.0) : 0.0;
  if (!s.delays_s.empty()) {
    std::vector<double> d = s.delays_s;
    std::sort(d.begin(), d.end());
    const size_t n = d.size();
    s.median_delay_s = n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
  }
  return s;
}

void ScoreTrace::add(double t, bool did_run, const float* s) {
  time_s.push_back(t);
  ran.push_back(did_run ? 1 : 0);
  for (int c = 0; c < num_labels; ++c) scores.push_back(did_run && s ? s[c] : 0.0f);
}

std::string hop_scores_csv(const ScoreTrace& trace, const std::vector<std::string>& labels) {
  std::string out = "time_s,network";
  for (const std::string& l : labels) out += "," + csv_field(l);
  out += "\n";
  const size_t n = static_cast<size_t>(trace.num_labels);
  for (size_t h = 0; h < trace.hops(); ++h) {
    out += fmt::format("{:.3f},{}", trace.time_s[h], trace.ran[h] ? 1 : 0);
    for (size_t k = 0; k < n; ++k) out += fmt::format(",{:.6g}", trace.scores[h * n + k]);
    out += "\n";
  }
  return out;
}

std::vector<StreamDetection> replay_decisions(const ScoreTrace& trace, const DeciderConfig& cfg,
                                              const std::vector<std::string>& labels) {
  StreamDecider d;
  if (Status st = d.init(cfg); !st.ok()) throw std::invalid_argument(st.message);
  std::vector<StreamDetection> out;
  for (size_t h = 0; h < trace.hops(); ++h) {
    if (!trace.ran[h]) {
      d.push_gated();
      continue;
    }
    float score = 0.0f;
    const int fired = d.push(trace.scores.data() + h * trace.num_labels, &score);
    if (fired >= 0) out.push_back({trace.time_s[h], labels[static_cast<size_t>(fired)], score});
  }
  return out;
}

std::vector<float> default_sweep_thresholds() {
  std::vector<float> t;
  for (int i = 1; i <= 19; ++i) t.push_back(0.05f * static_cast<float>(i));
  for (float v : {0.96f, 0.97f, 0.98f, 0.99f, 0.995f, 0.998f, 0.999f}) t.push_back(v);
  return t;
}

std::vector<SweepPoint> sweep_thresholds(const ScoreTrace& trace, const DeciderConfig& cfg,
                                         const std::vector<std::string>& labels,
                                         const std::vector<float>& thresholds,
                                         const std::vector<StreamLabel>& truth,
                                         const std::function<bool(const std::string&)>& is_keyword,
                                         double audio_s) {
  std::vector<SweepPoint> curve;
  DeciderConfig c = cfg;
  for (float t : thresholds) {
    std::fill(c.thresholds.begin(), c.thresholds.end(), t);
    curve.push_back(
        {t, score_stream(truth, replay_decisions(trace, c, labels), is_keyword, audio_s)});
  }
  return curve;
}

const SweepPoint* pick_for_fa_rate(const std::vector<SweepPoint>& curve, double target) {
  const SweepPoint* best = nullptr;
  for (const SweepPoint& p : curve) {
    if (p.score.fa_per_hour > target) continue;
    if (!best || p.score.miss_rate < best->score.miss_rate ||
        (p.score.miss_rate == best->score.miss_rate && p.threshold > best->threshold))
      best = &p;
  }
  return best;
}

}  // namespace tkws
