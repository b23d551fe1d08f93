#include "tinykws/eval/kws_metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>

namespace tkws {

const char* clip_group_name(ClipGroup g) {
  switch (g) {
    case ClipGroup::kKeyword:
      return "keyword";
    case ClipGroup::kUnknown:
      return "unknown";
    case ClipGroup::kHeldOut:
      return "held_out";
    case ClipGroup::kBackground:
      return "background";
  }
  return "?";
}

double kws_selection_score(const std::vector<int>& predicted, const std::vector<int64_t>& truth,
                           const std::vector<uint8_t>& groups,
                           const std::vector<uint8_t>& keyword_flags) {
  std::array<double, kClipGroups> right{}, total{};
  for (size_t i = 0; i < predicted.size(); ++i) {
    const int g = groups[i];
    const bool ok = g == static_cast<int>(ClipGroup::kKeyword)
                        ? predicted[i] == truth[i]
                        : !is_keyword_class(keyword_flags, predicted[i]);
    total[g] += 1;
    right[g] += ok;
  }
  double sum = 0;
  int n = 0;
  for (int g = 0; g < kClipGroups; ++g)
    if (total[g] > 0) sum += right[g] / total[g], ++n;
  return n ? sum / n : 0.0;
}

double KwsMetrics::group_fa_rate(ClipGroup g) const {
  const int i = static_cast<int>(g);
  return group_clips[i] ? static_cast<double>(group_fa[i]) / group_clips[i] : 0.0;
}

namespace {

int argmax(const std::vector<float>& p) {
  return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
}

double rate(int k, int n) {
  return n ? static_cast<double>(k) / n : 0.0;
}

}  // namespace

KwsMetrics kws_metrics(const std::vector<ScoredClip>& clips, const std::vector<std::string>& labels,
                       const std::vector<uint8_t>& keyword_flags) {
  KwsMetrics m;
  m.labels = labels;
  m.keyword_flags = keyword_flags;
  const int L = static_cast<int>(labels.size());
  std::vector<int> tp(L, 0), predicted(L, 0), actual(L, 0);
  std::map<std::string, KwsMetrics::Word> words;
  for (const auto& c : clips) {
    const int g = static_cast<int>(c.group);
    const int p = argmax(c.probs);
    const bool fires = is_keyword_class(keyword_flags, p);
    ++m.group_clips[g];
    if (c.group == ClipGroup::kKeyword) {
      m.keyword_hits += p == c.truth;
    } else {
      m.group_fa[g] += fires;
      if (!c.word.empty()) {
        auto& w = words[c.word];
        w.word = c.word;
        w.group = c.group;
        ++w.clips;
        w.fa += fires;
      }
    }
    if (c.truth >= 0) {
      ++actual[c.truth];
      ++predicted[p];
      tp[c.truth] += p == c.truth;
    }
  }
  const int n_kw = m.group_clips[0];
  int n_other = 0, fa_other = 0;
  for (int g = 1; g < kClipGroups; ++g) n_other += m.group_clips[g], fa_other += m.group_fa[g];
  m.miss_rate = rate(n_kw - m.keyword_hits, n_kw);
  m.fa_rate = rate(fa_other, n_other);
  for (int c = 0; c < L; ++c) {
    m.precision.push_back(predicted[c] ? static_cast<double>(tp[c]) / predicted[c] : -1.0);
    m.recall.push_back(actual[c] ? static_cast<double>(tp[c]) / actual[c] : -1.0);
  }
  for (auto& [name, w] : words) m.words.push_back(w);

  // The curve follows the streaming detector's rule: the most probable keyword fires when its
  // probability reaches the threshold, whatever the non-keyword classes score.
  std::vector<int> top_keyword(clips.size(), -1);
  for (size_t i = 0; i < clips.size(); ++i)
    for (int k = 0; k < static_cast<int>(clips[i].probs.size()); ++k)
      if (is_keyword_class(keyword_flags, k) &&
          (top_keyword[i] < 0 || clips[i].probs[k] > clips[i].probs[top_keyword[i]]))
        top_keyword[i] = k;
  std::vector<double> thresholds;
  for (int i = 1; i < 20; ++i) thresholds.push_back(0.05 * i);
  thresholds.push_back(0.99);
  thresholds.push_back(0.999);
  for (double t : thresholds) {
    int miss = 0, fa[kClipGroups] = {0, 0, 0, 0};
    for (size_t i = 0; i < clips.size(); ++i) {
      const ScoredClip& c = clips[i];
      const int p = top_keyword[i];
      const bool fires = p >= 0 && c.probs[p] >= t;
      if (c.group == ClipGroup::kKeyword)
        miss += !(fires && p == c.truth);
      else
        fa[static_cast<int>(c.group)] += fires;
    }
    ThresholdPoint pt;
    pt.threshold = t;
    pt.miss_rate = rate(miss, n_kw);
    pt.fa_rate = rate(fa[1] + fa[2] + fa[3], n_other);
    pt.fa_words = rate(fa[1] + fa[2], m.group_clips[1] + m.group_clips[2]);
    pt.fa_held_out = rate(fa[2], m.group_clips[2]);
    pt.fa_background = rate(fa[3], m.group_clips[3]);
    m.curve.push_back(pt);
  }
  return m;
}

nlohmann::json to_json(const KwsMetrics& m) {
  nlohmann::json groups = nlohmann::json::object();
  for (int g = 0; g < kClipGroups; ++g) {
    const auto G = static_cast<ClipGroup>(g);
    if (!m.group_clips[g]) continue;
    if (G == ClipGroup::kKeyword)
      groups["keyword"] = {{"clips", m.group_clips[g]}, {"hits", m.keyword_hits}};
    else
      groups[clip_group_name(G)] = {{"clips", m.group_clips[g]},
                                    {"false_accepts", m.group_fa[g]},
                                    {"false_accept_rate", m.group_fa_rate(G)}};
  }
  nlohmann::json classes = nlohmann::json::array();
  for (size_t c = 0; c < m.labels.size(); ++c)
    classes.push_back({{"label", m.labels[c]},
                       {"keyword", is_keyword_class(m.keyword_flags, static_cast<int>(c))},
                       {"precision", m.precision[c]},
                       {"recall", m.recall[c]}});
  nlohmann::json words = nlohmann::json::array();
  for (const auto& w : m.words)
    words.push_back({{"word", w.word},
                     {"group", clip_group_name(w.group)},
                     {"clips", w.clips},
                     {"false_accepts", w.fa}});
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& p : m.curve)
    curve.push_back({{"threshold", p.threshold},
                     {"miss_rate", p.miss_rate},
                     {"false_accept_rate", p.fa_rate},
                     {"false_accept_rate_words", p.fa_words},
                     {"false_accept_rate_held_out", p.fa_held_out},
                     {"false_accept_rate_background", p.fa_background}});
  return {{"miss_rate", m.miss_rate}, {"false_accept_rate", m.fa_rate},
          {"groups", groups},         {"classes", classes},
          {"words", words},           {"threshold_curve", curve}};
}

std::string to_text(const KwsMetrics& m) {
  std::ostringstream o;
  const int n_kw = m.group_clips[0];
  o << fmt::format("keyword spotting (a clip fires when its most probable class is a keyword):\n");
  o << fmt::format(
      "  keyword miss rate   {:6.2f} %  ({} of {} keyword clips not given their keyword)\n",
      100.0 * m.miss_rate, n_kw - m.keyword_hits, n_kw);
  for (int g = 1; g < kClipGroups; ++g) {
    if (!m.group_clips[g]) continue;
    const auto G = static_cast<ClipGroup>(g);
    const char* what = G == ClipGroup::kUnknown   ? "trained-unknown words"
                       : G == ClipGroup::kHeldOut ? "unseen words"
                                                  : "background windows";
    o << fmt::format("  false accepts       {:6.2f} %  ({} of {} {})\n", 100.0 * m.group_fa_rate(G),
                     m.group_fa[g], m.group_clips[g], what);
  }
  if (!m.words.empty()) {
    o << "  per word:";
    for (const auto& w : m.words)
      o << fmt::format(" {}{} {}/{}", w.word, w.group == ClipGroup::kHeldOut ? "*" : "", w.fa,
                       w.clips);
    o << "   (* = not trained on)\n";
  }
  o << "  class        precision  recall\n";
  for (size_t c = 0; c < m.labels.size(); ++c) {
    auto pct = [](double v) {
      return v < 0 ? std::string("     -") : fmt::format("{:6.2f}", 100 * v);
    };
    o << fmt::format("  {:<12} {:>8} % {:>6} %\n", m.labels[c], pct(m.precision[c]),
                     pct(m.recall[c]));
  }
  // The rows of the curve (the detector's rule: the most probable keyword fires at >= the
  // threshold, even below 0.5 where another class may be more probable).
  o << "  threshold  miss %   false accepts %  (words / unseen / background)\n";
  for (const auto& p : m.curve) {
    const int hundredths = static_cast<int>(std::lround(p.threshold * 100));
    const bool shown = hundredths >= 99 || hundredths == 10 || hundredths == 20 ||
                       hundredths == 30 || hundredths == 50 || hundredths == 70 || hundredths == 90;
    if (!shown) continue;
    o << fmt::format("  {:9.3f} {:7.2f} {:9.2f}  ({:.2f} / {:.2f} / {:.2f})\n", p.threshold,
                     100 * p.miss_rate, 100 * p.fa_rate, 100 * p.fa_words, 100 * p.fa_held_out,
                     100 * p.fa_background);
  }
  return o.str();
}

}  // namespace tkws
