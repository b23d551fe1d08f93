#include "tinykws/cli/detector_options.h"

#include <fmt/format.h>

#include <cstdlib>

#include "tinykws/common/error.h"

namespace tkws::cli {

std::shared_ptr<DetectorFlags> add_detector_flags(CLI::App& app) {
  auto f = std::make_shared<DetectorFlags>();
  auto add = [&app](const char* name, auto& value, const char* help) {
    return app.add_option(name, value, help)
        ->group("Detector (defaults: the model file's; `tinykws info` shows them)");
  };
  f->o_hop = add("--hop-ms", f->hop_ms, "Run the network every this many ms [1, 5000]");
  f->o_smooth =
      add("--smoothing-ms", f->smoothing_ms, "Average scores over this many ms of hops [0, 10000]");
  f->o_thr = add("--threshold", f->threshold,
                 "Smoothed score a keyword must reach [0, 1] (every keyword)");
  f->o_lthr = add("--threshold-for", f->label_thresholds,
                  "LABEL=X: the threshold of one keyword (repeatable)");
  f->o_min = add("--min-hops", f->min_hops,
                 "Hops in a row above the threshold before a detection [1, 1000]");
  f->o_refr =
      add("--refractory-ms", f->refractory_ms, "No detection for this long after one [0, 60000]");
  f->o_gate = add("--gate", f->gate, "Energy gate: skip the network in silence")
                  ->check(CLI::IsMember({"on", "off"}));
  f->o_dbfs = add("--gate-dbfs", f->gate_dbfs, "Frame level of speech, dBFS [-120, 0]");
  f->o_speech = add("--gate-min-speech-ms", f->gate_min_speech_ms,
                    "Loud frames in a row that start speech, ms [0, 10000]");
  f->o_hang = add("--gate-hangover-ms", f->gate_hangover_ms,
                  "Speech lasts this long after the last loud frame, ms [0, 60000]");
  add("--reuse-activations", f->reuse,
      "Recompute only the activation rows a hop changed, when the hop allows it (same scores, "
      "more memory)")
      ->check(CLI::IsMember({"on", "off"}));
  return f;
}

DetectorSettings detector_settings(const Model& m, const DetectorFlags& f) {
  DetectorSettings d = m.detector;
  auto given = [](const CLI::Option* o) { return o && o->count() > 0; };
  if (given(f.o_hop)) d.hop_ms = f.hop_ms;
  if (given(f.o_smooth)) d.smoothing_ms = f.smoothing_ms;
  if (given(f.o_thr)) d.threshold = f.threshold, d.thresholds.clear();
  if (given(f.o_min)) d.min_hops = f.min_hops;
  if (given(f.o_refr)) d.refractory_ms = f.refractory_ms;
  if (given(f.o_gate)) d.gate = f.gate == "on";
  if (given(f.o_dbfs)) d.gate_dbfs = f.gate_dbfs;
  if (given(f.o_speech)) d.gate_min_speech_ms = f.gate_min_speech_ms;
  if (given(f.o_hang)) d.gate_hangover_ms = f.gate_hangover_ms;
  for (const std::string& lt : f.label_thresholds) {
    const size_t eq = lt.rfind('=');
    char* end = nullptr;
    const std::string label = eq == std::string::npos ? "" : lt.substr(0, eq);
    const double v = eq == std::string::npos ? 0 : std::strtod(lt.c_str() + eq + 1, &end);
    if (label.empty() || end == lt.c_str() + eq + 1 || *end != '\0')
      throw InputError("--threshold-for '" + lt + "': expected LABEL=X, e.g. up=0.9");
    size_t i = 0;
    while (i < m.labels.size() && m.labels[i] != label) ++i;
    if (i == m.labels.size() || !m.is_keyword(i))
      throw InputError("--threshold-for '" + lt + "': '" + label +
                       "' is not a keyword of the model");
    if (d.thresholds.empty()) d.thresholds.assign(m.labels.size(), d.threshold);
    d.thresholds[i] = static_cast<float>(v);
  }
  if (std::string e = d.check(); !e.empty()) {
    // "detector.hop_ms = 0 must be ..." -> "--hop-ms: detector.hop_ms = 0 must be ...".
    std::string field = e.substr(9, e.find_first_of(" [") - 9), flag = "--" + field;
    for (char& c : flag) c = c == '_' ? '-' : c;
    if (field.rfind("thresholds", 0) == 0) flag = "--threshold-for";
    throw InputError(flag + ": " + e);
  }
  return d;
}

std::string describe_detector(const Model& m, const DetectorSettings& d) {
  std::string thr = fmt::format("{:g}", d.threshold);
  if (!d.thresholds.empty()) {
    std::string per;
    for (size_t i = 0; i < m.labels.size(); ++i)
      if (m.is_keyword(i))
        per += fmt::format("{}{} {:g}", per.empty() ? "" : ", ", m.labels[i], d.thresholds[i]);
    thr = "per label: " + per;
  }
  return fmt::format(
      "hop {} ms, smoothing {} ms, threshold {}, min {} hops, refractory {} ms, energy gate {}",
      d.hop_ms, d.smoothing_ms, thr, d.min_hops, d.refractory_ms,
      d.gate ? fmt::format("on ({:g} dBFS, min speech {} ms, hang-over {} ms)", d.gate_dbfs,
                           d.gate_min_speech_ms, d.gate_hangover_ms)
             : std::string("off"));
}

}  // namespace tkws::cli
