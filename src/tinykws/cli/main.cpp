// tinykws: train, evaluate and run keyword-spotting models (DESIGN.md "Command line").
// Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input.
#include <cstdio>
#include <filesystem>
#include <map>

#include "tinykws/cli/commands.h"
#include "tinykws/common/error.h"

namespace tkws::cli {

std::vector<std::string> default_data_dirs() {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("TINYKWS_DATA"); env && *env) {
    std::string all = env;
    for (size_t pos = 0; pos <= all.size();) {
      const size_t end = std::min(all.find(':', pos), all.size());
      if (end > pos) dirs.push_back(all.substr(pos, end - pos));
      pos = end + 1;
    }
    return dirs;
  }
  for (const fs::path base : {fs::path("."), fs::path(TINYKWS_SOURCE_DIR)}) {
    for (const char* name : {"speech_commands_updown", "speech_commands_others"}) {
      fs::path p = base / ".." / "shared" / "data" / name;
      if (fs::is_directory(p)) dirs.push_back(fs::weakly_canonical(p).string());
    }
    if (!dirs.empty()) return dirs;
  }
  return dirs;
}

std::vector<std::string> require_data_dirs(const std::vector<std::string>& given) {
  if (!given.empty()) return given;
  std::vector<std::string> d = default_data_dirs();
  if (d.empty())
    throw InputError(
        "no dataset: pass --data DIR (repeatable) or set TINYKWS_DATA=DIR[:DIR...] (README: "
        "Data)");
  return d;
}

CLI::Option* add_data_option(CLI::App& app, std::vector<std::string>& dirs) {
  return app.add_option("--data", dirs,
                        "Dataset folder; repeat to merge folders by label (default: "
                        "$TINYKWS_DATA, ':'-separated, or the ../shared/data folders present)");
}

}  // namespace tkws::cli

int main(int argc, char** argv) {
  using namespace tkws::cli;
  CLI::App app{"tinykws: tiny keyword-spotting models: train, compress, evaluate, deploy"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tinykws 0.1.0");
  std::map<CLI::App*, Runner> runners;
  auto add = [&](const char* name, const char* help, Runner (*fn)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    runners[sub] = fn(*sub);
  };
  add("train", "Train a model from a config on a dataset", add_train);
  add("eval", "Accuracy, confusion, size and latency of a model on a dataset split", add_eval);
  add("predict", "Classify WAV files with a model", add_predict);
  add("features", "Write the features of a clip as .npy", add_features);
  add("info", "Describe a .tkws model file", add_info);
  add("report", "Write an HTML report (inline SVG) of a run folder", add_report);
  add("quantize", "Post-training quantisation of a float model (int8 or fp16), accuracy checked",
      add_quantize);
  add("search", "Grid or random hyperparameter search with constraints and a Pareto front",
      add_search);
  add("listen", "Detect keywords in a stream: a file, raw PCM on stdin or an ALSA device",
      add_listen);
  add("stream-eval", "Misses, false accepts per hour and delay of the detector on a stream",
      add_stream_eval);
  add("make-stream", "Build a test stream (WAV + label CSV) from a dataset split", add_make_stream);
  add("export", "Write a model as TFLite, ONNX or a C array", add_export);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (auto* sub : app.get_subcommands())
      if (auto it = runners.find(sub); it != runners.end()) return it->second();
    return 2;
  } catch (const tkws::InputError& e) {
    std::fprintf(stderr, "tinykws: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tinykws: failed: %s\n", e.what());
    return 1;
  }
}
