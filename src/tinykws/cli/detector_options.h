// Flags shared by `tinykws listen` and `tinykws stream-eval`: one per DetectorSettings field
// (format/model.h), each overriding the default stored in the model file.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tinykws/format/model.h"

namespace tkws::cli {

struct DetectorFlags {
  int hop_ms = 0, smoothing_ms = 0, min_hops = 0, refractory_ms = 0;
  int gate_min_speech_ms = 0, gate_hangover_ms = 0;
  float threshold = 0.0f, gate_dbfs = 0.0f;
  std::string gate;                           // "on" or "off"
  std::string reuse = "on";                   // --reuse-activations: a runtime choice, not stored
  std::vector<std::string> label_thresholds;  // "LABEL=X"
  CLI::Option *o_hop = nullptr, *o_smooth = nullptr, *o_min = nullptr, *o_refr = nullptr;
  CLI::Option *o_speech = nullptr, *o_hang = nullptr, *o_thr = nullptr, *o_dbfs = nullptr;
  CLI::Option *o_gate = nullptr, *o_lthr = nullptr;
};

// Registers --hop-ms, --smoothing-ms, --threshold, --threshold-for LABEL=X, --min-hops,
// --refractory-ms, --gate on|off, --gate-dbfs, --gate-min-speech-ms, --gate-hangover-ms, and
// --reuse-activations on|off (StreamDetector::create's reuse_activations; not in the model).
std::shared_ptr<DetectorFlags> add_detector_flags(CLI::App& app);

// m.detector with the given flags applied. InputError naming the flag for a value out of range
// (DetectorSettings::check()) or a --threshold-for label that is not a keyword of the model.
DetectorSettings detector_settings(const Model& m, const DetectorFlags& f);

// "detector: hop 100 ms, smoothing 300 ms, threshold 0.8, ..." (`tinykws info`, listen).
std::string describe_detector(const Model& m, const DetectorSettings& d);

}  // namespace tkws::cli
