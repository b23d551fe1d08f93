// `tinykws stream-eval`: run the streaming detector over a labelled stream and report what
// wake-word benchmarks report (eval/stream_metrics.h): hits, misses, wrong-label detections,
// false accepts per hour, detection delay, and the miss-rate / false-accept curve over the
// threshold (recorded hop scores replayed, so the network runs once).
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tinykws/audio/stream_source.h"
#include "tinykws/cli/commands.h"
#include "tinykws/cli/detector_options.h"
#include "tinykws/cli/listen_actions.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/eval/stream_metrics.h"
#include "tinykws/eval/stream_report.h"
#include "tinykws/format/tkws.h"

namespace tkws::cli {
namespace {

struct StreamEvalOptions {
  std::string model, input, labels, json, html, write_model, hop_scores;
  double target_fa = -1.0;
  double window_after = 1.0;
};

nlohmann::json score_json(const StreamScore& s) {
  return {{"keywords", s.keywords},
          {"distractors", s.distractors},
          {"hits", s.hits},
          {"misses", s.misses},
          {"wrong_label", s.wrong_label},
          {"false_accepts", s.false_accepts},
          {"duplicates", s.duplicates},
          {"miss_rate", s.miss_rate},
          {"fa_per_hour", s.fa_per_hour},
          {"median_delay_s", s.median_delay_s},
          {"audio_s", s.audio_s}};
}

nlohmann::json settings_json(const DetectorSettings& d, double hop_ms) {
  return {{"hop_ms", d.hop_ms},
          {"hop_ms_effective", hop_ms},
          {"smoothing_ms", d.smoothing_ms},
          {"threshold", d.threshold},
          {"thresholds", d.thresholds},
          {"min_hops", d.min_hops},
          {"refractory_ms", d.refractory_ms},
          {"gate", d.gate},
          {"gate_dbfs", d.gate_dbfs},
          {"gate_min_speech_ms", d.gate_min_speech_ms},
          {"gate_hangover_ms", d.gate_hangover_ms}};
}

}  // namespace

Runner add_stream_eval(CLI::App& app) {
  auto o = std::make_shared<StreamEvalOptions>();
  app.add_option("--model", o->model, "Model file (.tkws)")->required();
  app.add_option("--input", o->input, "Stream audio (anything libsndfile reads)")->required();
  app.add_option("--labels", o->labels, "Stream labels CSV: start_s,end_s,label")->required();
  app.add_option("--json", o->json, "Write the results and the curve as JSON to this file");
  app.add_option("--html", o->html, "Write an HTML page with the curve to this file");
  app.add_option("--hop-scores", o->hop_scores,
                 "Write every hop's network probabilities as CSV to this file "
                 "(time_s,network,<labels>)");
  app.add_option("--target-fa-per-hour", o->target_fa,
                 "Print the threshold with the fewest misses at most this many false accepts "
                 "per hour")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--write-model", o->write_model,
                 "Write a copy of the model with these detector settings as its defaults (the "
                 "--target-fa-per-hour threshold if given)");
  app.add_option("--window-after", o->window_after,
                 "Seconds after a keyword's end in which its detection counts [0, 10]")
      ->check(CLI::Range(0.0, 10.0));
  auto flags = add_detector_flags(app);
  return [o, flags] {
    Model m = read_model(o->model);
    DetectorSettings settings = detector_settings(m, *flags);
    if (!std::filesystem::is_regular_file(o->labels))
      throw InputError(o->labels + ": file not found");
    const std::vector<StreamLabel> truth =
        parse_stream_labels(read_text_file(o->labels), o->labels);
    StreamDetector det;
    if (Status st = det.create(m, settings, {}, flags->reuse == "on"); !st.ok())
      throw InputError(o->model + ": " + st.message);
    const int rate = m.frontend.sample_rate;
    auto src = open_audio_file(o->input, rate);

    ScoreTrace trace;
    trace.num_labels = det.num_labels();
    det.set_hop_hook(
        [](void* u, const HopInfo& h) {
          static_cast<ScoreTrace*>(u)->add(h.time_s, h.ran, h.scores);
        },
        &trace);
    std::vector<StreamDetection> detections;
    const int64_t total = pump_stream(
        *src, det, 0, nullptr,
        [&](const float*, size_t, const std::vector<DetectionEvent>& events) {
          for (const DetectionEvent& e : events)
            detections.push_back({e.time_s, m.labels[static_cast<size_t>(e.label)], e.score});
        });
    det.set_hop_hook(nullptr, nullptr);
    const double audio_s = static_cast<double>(total) / rate;
    auto is_keyword = [&](const std::string& l) {
      for (size_t i = 0; i < m.labels.size(); ++i)
        if (m.labels[i] == l) return m.is_keyword(i);
      return false;
    };
    const StreamScore s = score_stream(truth, detections, is_keyword, audio_s, o->window_after);
    const std::vector<SweepPoint> curve =
        sweep_thresholds(trace, det.decider_config(), m.labels, default_sweep_thresholds(), truth,
                         is_keyword, audio_s);

    std::printf("stream: %s, %.1f s (%.3f h), %d keywords, %d distractors\n", o->input.c_str(),
                audio_s, audio_s / 3600.0, s.keywords, s.distractors);
    std::printf("detector: %s; network on %lld of %lld hops%s\n",
                describe_detector(m, settings).c_str(), static_cast<long long>(det.network_runs()),
                static_cast<long long>(det.hops()),
                det.reuses_activations() ? ", activations reused between hops" : "");
    std::printf(
        "hits %d, misses %d (miss rate %.2f %%), wrong label %d, false accepts %d (%.2f per "
        "hour), duplicates %d, median delay %.3f s\n",
        s.hits, s.misses, 100.0 * s.miss_rate, s.wrong_label, s.false_accepts, s.fa_per_hour,
        s.duplicates, s.median_delay_s);
    std::printf("\n%-9s %10s %12s %8s %8s\n", "threshold", "miss rate", "FA per hour", "FA",
                "wrong");
    for (const SweepPoint& p : curve)
      std::printf("%-9g %9.2f%% %12.2f %8d %8d\n", p.threshold, 100.0 * p.score.miss_rate,
                  p.score.fa_per_hour, p.score.false_accepts, p.score.wrong_label);

    const SweepPoint* chosen = nullptr;
    if (o->target_fa >= 0) {
      chosen = pick_for_fa_rate(curve, o->target_fa);
      if (chosen)
        std::printf(
            "\ntarget %.3g false accepts per hour: threshold %g (miss rate %.2f %%, %.2f "
            "per hour)\n",
            o->target_fa, chosen->threshold, 100.0 * chosen->score.miss_rate,
            chosen->score.fa_per_hour);
      else
        std::printf("\ntarget %.3g false accepts per hour: no threshold of the sweep meets it\n",
                    o->target_fa);
    }

    nlohmann::json j = {{"model", o->model},
                        {"input", o->input},
                        {"labels", o->labels},
                        {"audio_s", audio_s},
                        {"window_after_s", o->window_after},
                        {"settings", settings_json(settings, det.hop_ms())},
                        {"result", score_json(s)},
                        {"network_runs", det.network_runs()},
                        {"hops", det.hops()}};
    j["curve"] = nlohmann::json::array();
    for (const SweepPoint& p : curve) {
      nlohmann::json pj = score_json(p.score);
      pj["threshold"] = p.threshold;
      j["curve"].push_back(pj);
    }
    if (o->target_fa >= 0) {
      j["target_fa_per_hour"] = o->target_fa;
      j["chosen_threshold"] = chosen ? nlohmann::json(chosen->threshold) : nlohmann::json();
    }
    if (!o->json.empty()) write_file_atomic(o->json, j.dump(2) + "\n");
    if (!o->html.empty()) write_file_atomic(o->html, render_stream_report(j));
    if (!o->hop_scores.empty()) write_file_atomic(o->hop_scores, hop_scores_csv(trace, m.labels));
    if (!o->write_model.empty()) {
      if (o->target_fa >= 0 && !chosen)
        throw InputError("--write-model: no threshold meets --target-fa-per-hour " +
                         fmt::format("{:g}", o->target_fa) + "; nothing written");
      Model out = m;
      out.detector = settings;
      if (chosen) out.detector.threshold = chosen->threshold, out.detector.thresholds.clear();
      write_model(o->write_model, out);
      std::printf("wrote %s (detector defaults: %s)\n", o->write_model.c_str(),
                  describe_detector(out, out.detector).c_str());
    }
    return 0;
  };
}

}  // namespace tkws::cli
