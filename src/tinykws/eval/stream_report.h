// HTML for `tinykws stream-eval` results (the JSON that `stream-eval --json` writes): the
// curve of miss rate against false accepts per hour over the threshold sweep, and a table.
// `tinykws report RUN_DIR` adds the section when RUN_DIR/stream_eval.json exists;
// `stream-eval --html FILE` writes it as a page of its own. Inline SVG, no scripts.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace tkws {

// <h2> section: result line, the curve (eval/report.h svg_line_chart) and the sweep table.
// Throws InputError naming `source` when the JSON lacks "result" or "curve".
std::string stream_eval_section(const nlohmann::json& j, const std::string& source = "stream-eval");

// A self-contained page holding stream_eval_section(j).
std::string render_stream_report(const nlohmann::json& j);

}  // namespace tkws
