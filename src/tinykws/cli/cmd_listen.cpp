// `tinykws listen`: keyword detection on a file, raw PCM on stdin, or an ALSA device
// (docs/streaming.md). One line per detection on stdout ("time_s label score", or one JSON
// object per line with --json); a summary on stderr at the end.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tinykws/audio/alsa_capture.h"
#include "tinykws/audio/stream_source.h"
#include "tinykws/cli/commands.h"
#include "tinykws/cli/detector_options.h"
#include "tinykws/cli/listen_actions.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/format/tkws.h"

namespace tkws::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) {
  g_stop = 1;
}

// SIGINT / SIGTERM set g_stop for the lifetime of this object (no SA_RESTART, so a blocking
// read returns EINTR and the loop ends cleanly); the previous handlers come back after.
class StopSignals {
 public:
  StopSignals() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

struct ListenOptions {
  std::string model, input, device, alsa_config, exec, save_dir;
  int rate = 0;
  double duration = 0.0, pre_roll = 1.0;
  bool json = false, list_devices = false, quiet = false;
};

}  // namespace

Runner add_listen(CLI::App& app) {
  auto o = std::make_shared<ListenOptions>();
  app.add_option("--model", o->model, "Model file (.tkws)");
  app.add_option("--input", o->input,
                 "Audio file (anything libsndfile reads; resampled), or - for raw s16le mono "
                 "PCM on stdin");
  app.add_option("--device", o->device, "ALSA capture device, e.g. default or hw:1,0");
  app.add_flag("--list-devices", o->list_devices, "List ALSA capture devices and exit");
  app.add_option("--rate", o->rate, "Sample rate of --input - (default: the model's)");
  app.add_option("--duration", o->duration, "Stop after this many seconds of audio")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--json", o->json,
               "One JSON object per detection: {\"time_s\", \"label\", \"score\", ...}");
  app.add_option("--exec", o->exec,
                 "Run this shell command per detection (TINYKWS_LABEL, TINYKWS_SCORE, "
                 "TINYKWS_TIME set; its stdout goes to stderr)");
  app.add_option("--save-detections", o->save_dir,
                 "Write each detection's audio (window + pre-roll) as a WAV into this folder");
  app.add_option("--pre-roll", o->pre_roll, "Seconds saved before the window [0, 10]")
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--alsa-config", o->alsa_config,
                 "ALSA configuration file defining --device (e.g. a `file` plugin; tests)");
  app.add_flag("--quiet", o->quiet, "No summary on stderr");
  auto flags = add_detector_flags(app);
  return [o, flags] {
    if (o->list_devices) {
      for (const CaptureDevice& d : list_capture_devices())
        std::printf("%s\t%s\n", d.name.c_str(), d.description.c_str());
      return 0;
    }
    if (o->model.empty()) throw InputError("listen: --model is required");
    if (o->input.empty() == o->device.empty())
      throw InputError("listen: give exactly one of --input FILE, --input - or --device NAME");
    Model m = read_model(o->model);
    const DetectorSettings settings = detector_settings(m, *flags);
    StreamDetector det;
    if (Status st = det.create(m, settings, {}, flags->reuse == "on"); !st.ok())
      throw InputError(o->model + ": " + st.message);
    if (!o->save_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(o->save_dir, ec);
      if (!std::filesystem::is_directory(o->save_dir))
        throw InputError("--save-detections " + o->save_dir + ": cannot create the folder");
    }
    const int rate = m.frontend.sample_rate;
    StopSignals signals;
    std::unique_ptr<SampleSource> src;
    if (o->input == "-")
      src = open_raw_s16(STDIN_FILENO, "stdin", o->rate > 0 ? o->rate : rate, rate, &g_stop);
    else if (!o->input.empty())
      src = open_audio_file(o->input, rate);
    else
      src = open_alsa_capture(
          o->device, rate, o->alsa_config.empty() ? "" : read_text_file(o->alsa_config), &g_stop);
    if (!o->quiet)
      std::fprintf(stderr, "listen: %s; model %s; %s\n", src->describe().c_str(), o->model.c_str(),
                   describe_detector(m, settings).c_str());

    std::unique_ptr<CommandRunner> runner;
    if (!o->exec.empty()) runner = std::make_unique<CommandRunner>(o->exec);
    const int clip = m.frontend.clip_samples;
    AudioHistory history(
        o->save_dir.empty() ? 0 : static_cast<size_t>(clip + (o->pre_roll + 1.0) * rate) + 1024);
    int count = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t max_samples = static_cast<int64_t>(o->duration * rate + 0.5);
    const int64_t total = pump_stream(
        *src, det, max_samples, &g_stop,
        [&](const float* x, size_t n, const std::vector<DetectionEvent>& events) {
          history.append(x, n);
          if (runner) runner->reap();
          for (const DetectionEvent& e : events) {
            const std::string& label = m.labels[static_cast<size_t>(e.label)];
            if (o->json)
              std::printf(
                  "{\"time_s\": %.3f, \"label\": %s, \"score\": %.4f, \"end_sample\": %lld}\n",
                  e.time_s, nlohmann::json(label).dump().c_str(), e.score,
                  static_cast<long long>(e.end_sample));
            else
              std::printf("%.3f %s %.4f\n", e.time_s, label.c_str(), e.score);
            std::fflush(stdout);
            if (runner) runner->run(label, e.score, e.time_s);
            if (!o->save_dir.empty())
              save_detection(o->save_dir, count, label, e, history, rate, clip, o->pre_roll);
            ++count;
          }
        });
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (runner) runner->wait_all();
    if (!o->quiet) {
      const double audio_s = static_cast<double>(total) / rate;
      std::fprintf(stderr,
                   "listen: %d detection%s in %.2f s of audio%s; %.3f s wall (%.0fx real "
                   "time), %lld hops, network on %lld (%.1f%%)%s\n",
                   count, count == 1 ? "" : "s", audio_s, g_stop ? " (stopped by a signal)" : "",
                   wall, wall > 0 ? audio_s / wall : 0.0, static_cast<long long>(det.hops()),
                   static_cast<long long>(det.network_runs()),
                   det.hops() ? 100.0 * det.network_runs() / det.hops() : 0.0,
                   det.reuses_activations() ? ", activations reused between hops" : "");
    }
    return 0;
  };
}

}  // namespace tkws::cli
