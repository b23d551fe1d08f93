#include "tinykws/eval/kws_report.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "tinykws/eval/report.h"

namespace tkws {

std::string kws_report_section(const nlohmann::json& kws, const std::string& source) {
  if (!kws.is_object() || !kws.contains("threshold_curve") || !kws["threshold_curve"].is_array() ||
      kws["threshold_curve"].empty())
    return "";
  std::vector<double> t, miss, fa, words, held, bg;
  for (const auto& p : kws["threshold_curve"]) {
    auto get = [&](const char* k) { return p.contains(k) ? p[k].get<double>() : 0.0; };
    t.push_back(get("threshold"));
    miss.push_back(100 * get("miss_rate"));
    fa.push_back(100 * get("false_accept_rate"));
    words.push_back(100 * get("false_accept_rate_words"));
    held.push_back(100 * get("false_accept_rate_held_out"));
    bg.push_back(100 * get("false_accept_rate_background"));
  }
  const auto& groups = kws.value("groups", nlohmann::json::object());
  LineChart vs_t;
  vs_t.id = "chart-kws-threshold";
  vs_t.title = "Misses and false accepts against the threshold";
  vs_t.x_label = "probability threshold";
  vs_t.y_label = "% of clips";
  vs_t.markers = true;
  vs_t.y_min = 0;
  vs_t.y_max = 100;
  vs_t.series = {{"keyword miss rate", t, miss, kSvgRed, false},
                 {"false accepts, all", t, fa, kSvgBlue, false}};
  if (groups.contains("held_out"))
    vs_t.series.push_back({"false accepts, unseen words", t, held, kSvgOrange, true});
  if (groups.contains("background"))
    vs_t.series.push_back({"false accepts, background", t, bg, kSvgGreen, true});
  LineChart det;
  det.id = "chart-kws-det";
  det.title = "Miss rate against false-accept rate (one point per threshold)";
  det.x_label = "false accepts, % of non-keyword clips";
  det.y_label = "keyword miss rate, %";
  det.markers = true;
  det.series = {{"all non-keyword clips", fa, miss, kSvgBlue, false}};
  if (groups.contains("held_out"))
    det.series.push_back({"unseen words", held, miss, kSvgOrange, true});

  std::string s = "<h2 id=\"kws\">Keyword spotting</h2>\n";
  s += fmt::format(
      "<p class=\"muted\">From {}: on the curves a clip fires when its most probable keyword "
      "reaches the threshold (the streaming detector's rule; below 0.5 that includes keywords "
      "another class outscored). At the most probable class: keyword miss rate "
      "{:.2f} %, false accepts {:.2f} % of the clips that hold no keyword.",
      html_escape(source), 100 * kws.value("miss_rate", 0.0),
      100 * kws.value("false_accept_rate", 0.0));
  const std::pair<const char*, const char*> names[] = {{"unknown", "Trained-unknown words"},
                                                       {"held_out", "Unseen words"},
                                                       {"background", "Background windows"}};
  for (const auto& [key, name] : names)
    if (groups.contains(key))
      s += fmt::format(" {}: {} of {} given a keyword.", name,
                       groups[key].value("false_accepts", 0), groups[key].value("clips", 0));
  s += "</p>\n<div class=\"grid\">\n" + svg_line_chart(vs_t) + "\n" + svg_line_chart(det) +
       "\n</div>\n";
  return s;
}

}  // namespace tkws
