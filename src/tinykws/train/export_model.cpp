// The last phase of a run (run_state.h): the selected network as model.tkws (quantised as
// configured), its validation accuracy as the tinykws runtime runs it, metrics.json and
// config.toml.
#include <cstdio>
#include <filesystem>

#include "tinykws/common/fs.h"
#include "tinykws/compress/quantize.h"
#include "tinykws/eval/kws_metrics.h"
#include "tinykws/eval/metrics.h"
#include "tinykws/format/tkws.h"
#include "tinykws/train/feature_set.h"
#include "tinykws/train/run_state.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace tkws {

namespace {

// The float Model of the selected network, with deterministic provenance only (no times, no
// paths): the file must be byte-reproducible. The config itself is in the run folder
// (config.toml); the file keeps its hash.
Model float_model(TrainRun& r) {
  const ClassPlan& plan = r.data->plan;
  const TrainState& st = r.st;
  r.net->eval();
  Model model;
  model.frontend = r.cfg.frontend;
  model.labels = plan.labels;
  model.keyword_flags = plan.keyword_flags;
  model.detector = r.cfg.detector;
  if (r.cfg.train.normalize) {
    model.norm_mean = r.data->stats.mean;
    model.norm_inv_std = r.data->stats.inv_std;
  }
  r.net->export_to(model);
  uint64_t fnv = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char ch : r.cfg_text) fnv = (fnv ^ ch) * 0x100000001b3ull;
  char cfg_hash[17];
  std::snprintf(cfg_hash, sizeof cfg_hash, "%016llx", static_cast<unsigned long long>(fnv));
  json meta = {{"producer", "tinykws train"}, {"config_hash", cfg_hash},
               {"best_epoch", st.best_epoch}, {"val_accuracy", st.best_acc},
               {"val_loss", st.best_loss},    {"parameters", r.net->num_parameters()}};
  if (!plan.keyword_flags.empty()) {  // keyword model: what eval needs to group other words
    meta.erase("val_accuracy");
    meta["val_score"] = st.best_acc;
    meta["unknown_words"] = plan.unknown_words;
    meta["held_out_words"] = plan.held_out_words;
  }
  model.metadata_json = meta.dump();
  if (auto err = check_model(model); !err.empty())
    throw std::runtime_error("exported model is inconsistent: " + err);
  return model;
}

// [quantize] applied to the float model; int8 calibrates on clean training clips.
void quantize(const TrainRun& r, Model& model) {
  const TrainData& d = *r.data;
  switch (r.cfg.quantize.mode) {
    case QuantMode::kNone:
      break;
    case QuantMode::kFloat16:
      to_float16(model);
      break;
    case QuantMode::kInt8: {
      const std::vector<int> pick =
          calibration_clips(d.set->num_words(), r.cfg.quantize.calibration_clips, r.cfg.train.seed);
      const int nc = static_cast<int>(pick.size());
      std::vector<float> calib(d.per * nc);
      for (int i = 0; i < nc; ++i)
        std::copy_n(d.tr_clean.data() + d.per * pick[i], d.per, calib.data() + d.per * i);
      model = quantize_int8(model, calib.data(), nc);
      break;
    }
  }
}

// Validation accuracy of a model as the tinykws runtime runs it (the number users will see);
// the probabilities of every validation clip in *probs.
double runtime_val_accuracy(const TrainData& d, const Model& m,
                            std::vector<std::vector<float>>* probs) {
  KwsPipeline pipe;
  if (auto s = pipe.create(m); !s.ok())
    throw std::runtime_error("runtime cannot run the exported model: " + std::string(s.message));
  *probs = runtime_probs(pipe, d.val_clips);
  return argmax_accuracy(*probs, d.val_labels);
}

const char* quant_name(QuantMode m) {
  return m == QuantMode::kInt8 ? "int8" : m == QuantMode::kFloat16 ? "fp16" : "none";
}

}  // namespace

TrainResult export_model(TrainRun& r) {
  const TrainData& d = *r.data;
  const ClassPlan& plan = d.plan;
  const TrainState& st = r.st;
  Model model = float_model(r);
  std::vector<std::vector<float>> val_probs;
  const double float_acc = runtime_val_accuracy(d, model, &val_probs);
  quantize(r, model);
  const std::string model_path = (fs::path(r.opt.out_dir) / "model.tkws").string();
  write_model(model_path, model);
  const double rt_acc = runtime_val_accuracy(d, read_model(model_path), &val_probs);

  TrainResult res;
  res.history = st.history;
  res.best_epoch = st.best_epoch;
  res.best_val_acc = st.best_acc;
  res.best_val_loss = st.best_loss;
  res.runtime_val_acc = rt_acc;
  res.float_val_acc = float_acc;
  res.parameters = r.net->num_parameters();
  res.model_bytes = fs::file_size(model_path);
  res.seconds = steady_seconds() - r.t_start;
  res.stopped_early = st.early_stopped;

  std::vector<ScoredClip> scored(val_probs.size());
  for (size_t i = 0; i < scored.size(); ++i)
    scored[i] = {d.val_names[i], d.val_words[i], static_cast<int>(d.val_labels[i]),
                 static_cast<ClipGroup>(d.val_groups[i]), std::move(val_probs[i])};
  const KwsMetrics kws = kws_metrics(scored, plan.labels, plan.keyword_flags);
  json metrics = {{"val_accuracy", res.runtime_val_acc},
                  {"val_score", res.best_val_acc},
                  {"kws", to_json(kws)},
                  {"val_accuracy_torch", res.best_val_acc},
                  {"val_accuracy_float", res.float_val_acc},
                  {"quantize", quant_name(r.cfg.quantize.mode)},
                  {"sparsity", r.pruner ? r.pruner->sparsity() : 0.0},
                  {"val_loss", res.best_val_loss},
                  {"best_epoch", res.best_epoch},
                  {"epochs_run", st.epoch_done},
                  {"stopped_early", res.stopped_early},
                  {"parameters", res.parameters},
                  {"model_bytes", res.model_bytes},
                  {"n_train", d.n_train()},
                  {"n_val", d.n_val()},
                  {"labels", plan.labels},
                  {"seed", r.cfg.train.seed},
                  {"threads", r.cfg.train.threads},
                  {"train_seconds", res.seconds},
                  {"history", history_json(st.history)}};
  write_file_atomic((fs::path(r.opt.out_dir) / "metrics.json").string(), metrics.dump(2) + "\n");
  write_file_atomic((fs::path(r.opt.out_dir) / "config.toml").string(), r.cfg_text);
  if (!plan.keyword_flags.empty()) r.progress.message(to_text(kws));
  r.progress.message("best epoch " + std::to_string(res.best_epoch) + ": validation accuracy " +
                     std::to_string(100.0 * res.runtime_val_acc).substr(0, 6) + " % (runtime), " +
                     std::to_string(res.model_bytes) + " bytes, " +
                     std::to_string(res.seconds).substr(0, 5) + " s");
  return res;
}

}  // namespace tkws
