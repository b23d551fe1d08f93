// train_model: the run's state (run_state.h) taken through its phases, and the phases that
// set the run up: the data, the network with its optimiser and pruner, and a resume.
#include "tinykws/train/trainer.h"

#include <torch/torch.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "tinykws/common/error.h"
#include "tinykws/train/run_state.h"

namespace fs = std::filesystem;

namespace tkws {

namespace {

// The config with command-line overrides applied, as text: what a resume must match and
// what the model file records.
std::string effective_config_text(const Config& cfg) {
  return cfg.text + "\n# effective: seed = " + std::to_string(cfg.train.seed) +
         ", epochs = " + std::to_string(cfg.train.epochs) +
         ", threads = " + std::to_string(cfg.train.threads) + "\n";
}

std::string join_words(const std::vector<std::string>& w) {
  std::string s;
  for (const auto& x : w) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

TrainResult train_model(const Config& cfg, const TrainOptions& opt) {
  TrainRun r(cfg, opt);
  prepare_data(r);
  prepare_teacher(r);
  build_network(r);
  if (!training_phase(r) || !clustering_phase(r)) {  // stopped as if killed
    wait_prefetch(r);
    TrainResult res;
    res.history = r.st.history;
    res.interrupted = true;
    return res;
  }
  wait_prefetch(r);
  return export_model(r);
}

TrainRun::TrainRun(const Config& config, const TrainOptions& options)
    : cfg(config), opt(options), t_start(steady_seconds()), progress(options.progress) {
#if defined(__GLIBC__)
  // Debian's libtorch is up to 2.5x slower with glibc's default mmap/trim thresholds.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  cfg.validate();
  io_threads =
      opt.io_threads > 0 ? opt.io_threads : std::max(1u, std::thread::hardware_concurrency());
  torch::set_num_threads(cfg.train.threads);
  at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);

  fs::create_directories(opt.out_dir);
  if (::access(opt.out_dir.c_str(), W_OK) != 0)  // e.g. read-only: refuse before any work
    throw InputError(opt.out_dir + ": cannot write there (" + std::strerror(errno) + ")");
  for (auto& e : fs::directory_iterator(opt.out_dir))  // torn checkpoints of a killed run
    if (e.path().filename().string().rfind("checkpoint.pt.tmp", 0) == 0) fs::remove(e.path());
  ckpt_path = (fs::path(opt.out_dir) / "checkpoint.pt").string();
  cfg_text = effective_config_text(cfg);
}

void prepare_data(TrainRun& r) {
  r.data = prepare_train_data(r.cfg, r.opt.data_dirs, r.io_threads);
  const TrainData& d = *r.data;
  const ClassPlan& plan = d.plan;
  r.progress.message(d.ds.summary());
  r.y_tr = torch::tensor(d.set->labels(), torch::kInt64);
  r.y_va = torch::tensor(d.val_labels, torch::kInt64);
  r.x_va = torch::from_blob(r.data->va_feats.data(), {d.n_val(), 1, d.frames, d.coeffs},
                            torch::kFloat32);
  if (plan.unknown >= 0 || plan.silence >= 0)
    r.progress.message(
        "classes: " + join_words(plan.labels) + "; per epoch " +
        std::to_string(d.set->num_words()) + " keyword, " + std::to_string(d.set->num_unknown()) +
        " _unknown_ (from " + join_words(plan.unknown_words) + "), " +
        std::to_string(d.set->num_silence()) + " _silence_ clips" +
        (plan.held_out_words.empty() ? std::string()
                                     : "; held out: " + join_words(plan.held_out_words)));
}

void build_network(TrainRun& r) {
  const TrainConfig& tc = r.cfg.train;
  const TrainData& d = *r.data;
  const int n_tr = d.n_train();
  torch::manual_seed(tc.seed);
  r.net = KwsNet(r.cfg.model, d.frames, d.coeffs, static_cast<int>(d.plan.labels.size()));
  const bool resuming = r.opt.resume && fs::exists(r.ckpt_path);
  if (r.cfg.distill.init_from_teacher && !resuming) {
    std::vector<torch::Tensor> w = read_selected_weights(r.teacher.checkpoint);
    if (w.size() != snapshot_state(*r.net).size())
      throw std::runtime_error(r.teacher.checkpoint +
                               ": the teacher's weights do not fit the student");
    load_state(*r.net, w);
    r.progress.message("distillation: the student starts from the teacher's weights");
  }
  auto adam_opts = torch::optim::AdamOptions(tc.lr_initial).weight_decay(tc.weight_decay);
  r.adam = std::make_unique<torch::optim::Adam>(r.net->parameters(), adam_opts);
  r.batch = std::min(tc.batch_size, n_tr);
  r.steps_per_epoch = (n_tr + r.batch - 1) / r.batch;
  r.total_steps = static_cast<int64_t>(tc.epochs) * r.steps_per_epoch;
  r.warmup = static_cast<int64_t>(tc.warmup_epochs) * r.steps_per_epoch;
  r.cluster_epochs = r.cfg.cluster.enabled ? r.cfg.cluster.epochs : 0;
  r.all_epochs = tc.epochs + r.cluster_epochs;
  if (r.cfg.prune.enabled)
    r.pruner = std::make_unique<Pruner>(r.cfg.prune, r.net, r.total_steps, r.steps_per_epoch);

  r.st.ema = snapshot_state(*r.net);
  if (resuming) {
    load_checkpoint(r.ckpt_path, r.st, r.ckpt_model, r.ckpt_optim, r.cfg_text);
    r.resumed = true;
    r.progress.message("resuming after epoch " + std::to_string(r.st.epoch_done) + " from " +
                       r.ckpt_path);
    if (r.st.epoch_done <= tc.epochs && !r.st.early_stopped) {  // inside the training phase
      load_state(*r.net, r.ckpt_model);
      r.adam->load(r.ckpt_optim);
    }
    if (r.pruner && !r.st.masks.empty()) r.pruner->masks() = r.st.masks;
  } else if (r.opt.resume) {
    r.progress.message("no checkpoint in " + r.opt.out_dir + "; starting from scratch");
  }
  r.progress.message("network: " + std::to_string(r.net->num_parameters()) + " parameters; input " +
                     std::to_string(d.frames) + " frames x " + std::to_string(d.coeffs) +
                     " coefficients; " + std::to_string(n_tr) + " training, " +
                     std::to_string(d.n_val()) + " validation clips");
  prefetch(r, r.st.epoch_done + 1);
}

void prefetch(TrainRun& r, int epoch) {
  if (r.data->per_epoch && epoch <= r.all_epochs)
    r.next = std::async(std::launch::async,
                        [&r, epoch] { return r.data->epoch_features(r.cfg, epoch, r.io_threads); });
}

void wait_prefetch(TrainRun& r) {
  if (r.next.valid()) r.next.wait();
}

}  // namespace tkws
