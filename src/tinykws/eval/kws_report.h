// The keyword-spotting section of `tinykws report`: miss rate and false-accept rates against
// the probability threshold, and miss rate against false-accept rate (a DET-style curve), from
// the "kws" object that `tinykws eval --json` (eval.json) or training (metrics.json) writes.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace tkws {

// HTML (heading, note and two inline SVG charts), or "" when `kws` is not an object with a
// threshold_curve. `source` names the file it came from, for the note.
std::string kws_report_section(const nlohmann::json& kws, const std::string& source);

}  // namespace tkws
