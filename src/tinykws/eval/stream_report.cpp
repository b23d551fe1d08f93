#include "tinykws/eval/stream_report.h"

#include <fmt/format.h>

#include "tinykws/common/error.h"
#include "tinykws/eval/report.h"

namespace tkws {

std::string stream_eval_section(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object() || !j.contains("result") || !j.contains("curve") || !j["curve"].is_array())
    throw InputError(source + ": expected stream-eval JSON with \"result\" and \"curve\"");
  const nlohmann::json& r = j["result"];
  std::string s = "<h2 id=\"stream\">Streaming detection</h2>\n";
  s += fmt::format(
      "<p>{}: {:.1f} s of audio, {} keywords, {} distractors. At the settings used (threshold "
      "{}): <b>miss rate {:.2f} %</b>, <b>{:.2f} false accepts per hour</b>, {} wrong-label "
      "detections, median delay {:.3f} s.</p>\n",
      html_escape(j.value("input", std::string("stream"))), j.value("audio_s", 0.0),
      r.value("keywords", 0), r.value("distractors", 0),
      j.contains("settings") ? j["settings"].value("threshold", 0.0) : 0.0,
      100.0 * r.value("miss_rate", 0.0), r.value("fa_per_hour", 0.0), r.value("wrong_label", 0),
      r.value("median_delay_s", 0.0));
  LineChart c;
  c.id = "chart-stream-curve";
  c.title = "Miss rate against false accepts per hour (threshold sweep)";
  c.x_label = "false accepts per hour";
  c.y_label = "miss rate (%)";
  c.markers = true;
  ChartSeries pts{"detector", {}, {}, kSvgBlue};
  std::string rows;
  for (const nlohmann::json& p : j["curve"]) {
    const double fa = p.value("fa_per_hour", 0.0), miss = 100.0 * p.value("miss_rate", 0.0);
    pts.x.push_back(fa);
    pts.y.push_back(miss);
    rows += fmt::format(
        "<tr><td>{:g}</td><td>{:.2f} %</td><td>{:.2f}</td><td>{}</td><td>{}</td></tr>\n",
        p.value("threshold", 0.0), miss, fa, p.value("false_accepts", 0),
        p.value("wrong_label", 0));
  }
  c.series.push_back(pts);
  s += svg_line_chart(c) + "\n";
  s += "<table><tr><th>threshold</th><th>miss rate</th><th>FA per hour</th><th>false accepts</th>"
       "<th>wrong label</th></tr>\n" +
       rows + "</table>\n";
  return s;
}

std::string render_stream_report(const nlohmann::json& j) {
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page +=
      "<title>tinykws stream-eval</title>\n<style>body{font-family:sans-serif;margin:2em}"
      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;"
      "text-align:right}</style>\n</head>\n<body>\n";
  page += stream_eval_section(j);
  page +=
      "<p>Written by <code>tinykws stream-eval</code>; self-contained (inline SVG).</p>\n"
      "</body>\n</html>\n";
  return page;
}

}  // namespace tkws
