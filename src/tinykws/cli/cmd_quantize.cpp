// `tinykws quantize`: post-training quantisation of a float model file, without retraining.
// int8 (TFLite scheme, compress/quantize.h) calibrates activation ranges on training clips of
// a dataset: the subset a training run with --seed would use, so quantising a float run's
// model.tkws gives the int8 file that run would have written with [quantize] mode = "int8".
// fp16 rounds every float tensor to binary16. Either way the validation accuracy of the input
// and of the result are printed (when the dataset has a validation split), so the cost of
// quantisation is measured, not assumed.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "tinykws/audio/clips.h"
#include "tinykws/audio/dataset.h"
#include "tinykws/cli/commands.h"
#include "tinykws/common/error.h"
#include "tinykws/compress/quantize.h"
#include "tinykws/eval/metrics.h"
#include "tinykws/format/tkws.h"
#include "tinykws/runtime/pipeline.h"
#include "tinykws/train/feature_set.h"

namespace tkws::cli {
namespace {

bool has_float_tensors(const Model& m) {
  return std::any_of(m.tensors.begin(), m.tensors.end(), [](const Tensor& t) {
    return t.dtype == DType::kF32 || t.dtype == DType::kF16;
  });
}

// Validation accuracy of `m` as the tinykws runtime runs it.
double accuracy(const Model& m, const std::string& name, const LoadedClips& clips) {
  KwsPipeline pipe;
  if (auto s = pipe.create(m); !s.ok())
    throw InputError(name + ": the runtime cannot run this model: " + s.message);
  std::vector<int64_t> labels;
  for (const ClipRef* r : clips.refs) labels.push_back(r->label);
  try {
    return runtime_accuracy(pipe, clips.samples, labels);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(name + ": " + e.what());
  }
}

// Refuses an --out that cannot be written (before any work) or that names the input.
void check_out_path(const std::string& out, const std::string& model) {
  namespace fs = std::filesystem;
  if (out.empty()) throw InputError("quantize: --out is empty");
  std::error_code ec;
  if (fs::is_directory(out, ec)) throw InputError(out + ": --out is a folder, not a file");
  const fs::path parent = fs::path(out).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw InputError(out + ": --out's folder " + parent.string() + " does not exist");
  if (fs::exists(out, ec) && fs::equivalent(out, model, ec))
    throw InputError(out + ": --out must differ from --model");
}

}  // namespace

Runner add_quantize(CLI::App& app) {
  struct Args {
    std::string model, out, mode = "int8";
    std::vector<std::string> data;
    int calibration_clips = 200;
    uint64_t seed = 0;
    int threads = 0;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--model", a->model, "Float model file (.tkws, fp32 or fp16)")->required();
  app.add_option("--out", a->out, "Output model file (written atomically)")->required();
  app.add_option("--mode", a->mode,
                 "int8: TFLite-scheme integer model (weights per channel, activations "
                 "calibrated on training clips); fp16: float weights rounded to binary16 (no "
                 "calibration: --seed and --calibration-clips are ignored)")
      ->check(CLI::IsMember({"int8", "fp16"}))
      ->capture_default_str();
  add_data_option(app, a->data)
      ->description(
          "Dataset folder, repeatable: int8 calibration clips (training split of the keywords) "
          "and the accuracy check (validation split of the keywords) (default: $TINYKWS_DATA or "
          "../shared/data; fp16 runs without one, unchecked)");
  app.add_option("--calibration-clips", a->calibration_clips,
                 "int8: training clips that calibrate the activation ranges (a run's "
                 "[quantize] calibration_clips)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--seed", a->seed,
                 "int8: the calibration subset of a training run with this train.seed (with "
                 "the same --calibration-clips, the int8 tensors that run writes)")
      ->capture_default_str();
  app.add_option("--threads", a->threads, "Clip loading and feature workers (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return [a] {
    const Model m = read_model(a->model);
    if (!has_float_tensors(m) || m.is_int8())
      throw InputError(a->model + ": not a float model (quantize takes an fp32 or fp16 file)");
    const bool all_fp16 = std::none_of(m.tensors.begin(), m.tensors.end(),
                                       [](const Tensor& t) { return t.dtype == DType::kF32; });
    if (a->mode == "fp16" && all_fp16)
      throw InputError(a->model + ": already stored as fp16: nothing to do");
    check_out_path(a->out, a->model);
    // int8 needs training clips; fp16 only uses a dataset, when there is one, for the check.
    const std::vector<std::string> data_dirs =
        a->mode == "int8" || !a->data.empty() ? require_data_dirs(a->data) : default_data_dirs();
    std::string data_dir;
    for (const auto& d : data_dirs) data_dir += (data_dir.empty() ? "" : ", ") + d;
    // Calibration and the check use the keyword clips (the trainer calibrates on them too);
    // keywords come first in a model's classes, so their dataset indices are their classes.
    std::vector<std::string> keywords;
    for (size_t i = 0; i < m.labels.size(); ++i)
      if (m.is_keyword(i)) keywords.push_back(m.labels[i]);
    const int threads = a->threads > 0
                            ? a->threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const FrontendConfig& fe = m.frontend;
    std::optional<Dataset> ds;
    if (a->mode == "int8" || !a->data.empty()) {
      ds = scan_datasets(data_dirs, keywords);
    } else if (!data_dirs.empty()) {
      try {  // fp16 with the default dataset: a check when it fits the model
        ds = scan_datasets(data_dirs, keywords);
      } catch (const InputError& e) {
        std::printf("accuracy not checked: %s\n", e.what());
      }
    }

    Model q = m;
    nlohmann::json meta = nlohmann::json::object();  // provenance: the training's, plus ours
    if (!m.metadata_json.empty()) {
      meta = nlohmann::json::parse(m.metadata_json, nullptr, /*allow_exceptions=*/false);
      if (!meta.is_object()) meta = nlohmann::json::object();
    }
    if (a->mode == "fp16") {
      to_float16(q);
    } else {
      const auto train = ds->select(Split::kTrain);
      if (train.empty())
        throw InputError(data_dir + ": no training clips to calibrate the int8 ranges on");
      const std::vector<int> pick =
          calibration_clips(static_cast<int>(train.size()), a->calibration_clips, a->seed);
      std::vector<const ClipRef*> refs;
      for (int i : pick) refs.push_back(train[i]);
      const LoadedClips calib_clips = load_clips(refs, fe.sample_rate, fe.clip_samples, threads);
      std::vector<float> calib =
          extract_features(calib_clips.samples, fe, nullptr, a->seed, 0, threads);
      if (!m.norm_mean.empty()) {
        FeatureStats stats{m.norm_mean, m.norm_inv_std};
        normalize(calib, stats, static_cast<int>(refs.size()), fe.num_frames(), fe.num_features());
      }
      try {
        q = quantize_int8(m, calib.data(), static_cast<int>(refs.size()));
      } catch (const std::invalid_argument& e) {
        throw InputError(a->model + ": cannot quantise to int8: " + e.what());
      }
      std::printf("calibration: %zu of %zu training clips (seed %llu)\n", refs.size(), train.size(),
                  static_cast<unsigned long long>(a->seed));
      meta["calibration_seed"] = a->seed;
      meta["calibration_clips"] = refs.size();
    }
    meta["quantized_by"] = "tinykws quantize";
    meta["quantized_from"] = std::filesystem::path(a->model).filename().string();
    meta["quantize_mode"] = a->mode;
    q.metadata_json = meta.dump();

    // Both models are run before anything is written: a failure leaves no output file.
    const auto val = ds ? ds->select(Split::kVal) : std::vector<const ClipRef*>{};
    if (val.empty()) {
      if (ds) std::printf("no validation split in %s: accuracy not checked\n", data_dir.c_str());
    } else {
      const LoadedClips clips = load_clips(val, fe.sample_rate, fe.clip_samples, threads);
      const std::vector<uint8_t> bytes = serialize_model(q);
      const double before = accuracy(m, a->model, clips);
      const double after = accuracy(parse_model(bytes.data(), bytes.size(), a->out), a->out, clips);
      std::printf("validation accuracy: %.2f %% -> %.2f %% (%+.2f points) over %zu keyword clips\n",
                  100.0 * before, 100.0 * after, 100.0 * (after - before), val.size());
    }
    write_model(a->out, q);
    std::printf("wrote %s: %s, %llu bytes (input %llu bytes)\n", a->out.c_str(), a->mode.c_str(),
                static_cast<unsigned long long>(std::filesystem::file_size(a->out)),
                static_cast<unsigned long long>(std::filesystem::file_size(a->model)));
    return 0;
  };
}

}  // namespace tkws::cli
