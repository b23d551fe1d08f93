#include "tinykws/train/trainer.h"

#include <torch/torch.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "tinykws/audio/clips.h"
#include "tinykws/audio/dataset.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/compress/quantize.h"
#include "tinykws/eval/kws_metrics.h"
#include "tinykws/eval/metrics.h"
#include "tinykws/format/tkws.h"
#include "tinykws/runtime/pipeline.h"
#include "tinykws/train/compress.h"
#include "tinykws/train/feature_set.h"
#include "tinykws/train/network.h"
#include "tinykws/train/progress.h"
#include "tinykws/train/train_data.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace tkws {

namespace {

constexpr uint64_t kMaskStream = 3, kDropoutStream = 4;
constexpr int kCheckpointVersion = 1;

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Learning rate at global step `step` of `total` (REFERENCE: decays from initial to final).
double lr_at(const TrainConfig& t, int64_t step, int64_t total, int64_t warmup) {
  if (step < warmup) return t.lr_initial * (0.1 + 0.9 * static_cast<double>(step) / warmup);
  double span = std::max<int64_t>(total - warmup - 1, 1);
  double p = std::clamp((step - warmup) / span, 0.0, 1.0);
  double a = t.lr_initial, b = t.lr_final;
  switch (t.lr_schedule) {
    case LrSchedule::kConstant:
      return a;
    case LrSchedule::kLinear:
      return a + (b - a) * p;
    case LrSchedule::kPolynomial:
      return b + (a - b) * std::pow(1.0 - p, t.lr_power);
    case LrSchedule::kCosine:
      return b + (a - b) * 0.5 * (1.0 + std::cos(M_PI * p));
  }
  return a;
}

torch::Tensor to_input(std::vector<float>& feats, int n, int frames, int coeffs) {
  return torch::from_blob(feats.data(), {n, 1, frames, coeffs}, torch::kFloat32);
}

struct EvalOut {
  double loss = 0, acc = 0;
  double score = 0;  // what selects the model: kws_selection_score (= acc for keyword-only)
};

EvalOut evaluate(KwsNet& net, const torch::Tensor& x, const torch::Tensor& y,
                 const TrainData& data) {
  torch::NoGradGuard g;
  net->eval();
  auto logits = net->forward(x);
  auto loss = torch::nn::functional::cross_entropy(logits, y).item<double>();
  auto pred_t = logits.argmax(1);
  auto acc = pred_t.eq(y).to(torch::kFloat64).mean().item<double>();
  pred_t = pred_t.to(torch::kInt32).contiguous();
  std::vector<int> pred(pred_t.data_ptr<int>(), pred_t.data_ptr<int>() + pred_t.numel());
  return {loss, acc,
          kws_selection_score(pred, data.val_labels, data.val_groups, data.plan.keyword_flags)};
}

json history_json(const std::vector<EpochRecord>& h) {
  json a = json::array();
  for (auto& e : h)
    a.push_back({{"epoch", e.epoch},
                 {"phase", e.phase},
                 {"lr", e.lr},
                 {"train_loss", e.train_loss},
                 {"train_acc", e.train_acc},
                 {"val_loss", e.val_loss},
                 {"val_acc", e.val_acc},
                 {"val_score", e.val_score},
                 {"sparsity", e.sparsity},
                 {"seconds", e.seconds}});
  return a;
}

std::vector<EpochRecord> history_from_json(const json& a) {
  std::vector<EpochRecord> h;
  for (auto& e : a) {
    EpochRecord r;
    r.epoch = e.at("epoch");
    r.phase = e.at("phase");
    r.lr = e.at("lr");
    r.train_loss = e.at("train_loss");
    r.train_acc = e.at("train_acc");
    r.val_loss = e.at("val_loss");
    r.val_acc = e.at("val_acc");
    r.val_score = e.value("val_score", r.val_acc);
    r.sparsity = e.at("sparsity");
    r.seconds = e.at("seconds");
    h.push_back(r);
  }
  return h;
}

// Everything a resumed run needs, saved atomically after every epoch.
struct TrainState {
  int epoch_done = 0;  // over both phases
  int64_t step = 0;    // optimizer steps of the training phase
  std::vector<torch::Tensor> ema, best, masks;
  std::vector<torch::Tensor> cbest_latent, cbest_centroids, centroids;  // clustering phase
  int best_epoch = 0;
  double best_acc = -1, best_loss = 1e30;
  int cbest_epoch = 0;
  double cbest_acc = -1, cbest_loss = 1e30;
  int since_best = 0;
  bool early_stopped = false;
  std::vector<EpochRecord> history;
};

void write_tensors(torch::serialize::OutputArchive& ar, const std::string& prefix,
                   const std::vector<torch::Tensor>& ts) {
  ar.write(prefix + "_n", torch::tensor(static_cast<int64_t>(ts.size())));
  for (size_t i = 0; i < ts.size(); ++i) ar.write(prefix + "_" + std::to_string(i), ts[i]);
}

std::vector<torch::Tensor> read_tensors(torch::serialize::InputArchive& ar,
                                        const std::string& prefix) {
  torch::Tensor n;
  ar.read(prefix + "_n", n);
  std::vector<torch::Tensor> ts(n.item<int64_t>());
  for (size_t i = 0; i < ts.size(); ++i) ar.read(prefix + "_" + std::to_string(i), ts[i]);
  return ts;
}

void save_checkpoint(const std::string& path, KwsNet& net, torch::optim::Optimizer& opt,
                     const TrainState& st, const std::string& config_text) {
  torch::serialize::OutputArchive ar;
  ar.write("version", torch::tensor(static_cast<int64_t>(kCheckpointVersion)));
  ar.write("config", c10::IValue(config_text));
  write_tensors(ar, "model", snapshot_state(*net));
  write_tensors(ar, "ema", st.ema);
  write_tensors(ar, "best", st.best);
  write_tensors(ar, "masks", st.masks);
  write_tensors(ar, "centroids", st.centroids);
  write_tensors(ar, "cbest_latent", st.cbest_latent);
  write_tensors(ar, "cbest_centroids", st.cbest_centroids);
  torch::serialize::OutputArchive oa;
  opt.save(oa);
  ar.write("optim", oa);
  json meta = {{"epoch_done", st.epoch_done},        {"step", st.step},
               {"best_epoch", st.best_epoch},        {"best_acc", st.best_acc},
               {"best_loss", st.best_loss},          {"cbest_epoch", st.cbest_epoch},
               {"cbest_acc", st.cbest_acc},          {"cbest_loss", st.cbest_loss},
               {"since_best", st.since_best},        {"early_stopped", st.early_stopped},
               {"history", history_json(st.history)}};
  ar.write("meta", c10::IValue(meta.dump()));
  // In memory, then atomically to disk with a clear error: libtorch's file writer ends the
  // process (std::terminate) when a write fails, e.g. on a full disk.
  std::ostringstream bytes;
  ar.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

// Loads a checkpoint archive; a damaged file is an InputError naming it.
void open_checkpoint(const std::string& path, torch::serialize::InputArchive& ar) {
  try {
    ar.load_from(path);
  } catch (const std::exception& e) {
    throw InputError(
        path + ": cannot read checkpoint (damaged?): " + std::string(e.what()).substr(0, 200));
  }
}

// The weights a finished run selected (its model.tkws before export), in snapshot_state order.
std::vector<torch::Tensor> read_selected_weights(const std::string& path) {
  torch::serialize::InputArchive ar;
  open_checkpoint(path, ar);
  return read_tensors(ar, "best");
}

// Reads the checkpoint's state; the optimizer state is returned as an archive to load into
// whichever optimizer the phase builds.
void load_checkpoint(const std::string& path, TrainState& st, std::vector<torch::Tensor>& model,
                     torch::serialize::InputArchive& optim, const std::string& config_text) {
  torch::serialize::InputArchive ar;
  open_checkpoint(path, ar);
  c10::IValue cfg, meta;
  ar.read("config", cfg);
  if (cfg.toStringRef() != config_text)
    throw InputError(path +
                     ": checkpoint was written with a different config; resume needs "
                     "the same config (and --seed/--epochs/--threads)");
  model = read_tensors(ar, "model");
  st.ema = read_tensors(ar, "ema");
  st.best = read_tensors(ar, "best");
  st.masks = read_tensors(ar, "masks");
  st.centroids = read_tensors(ar, "centroids");
  st.cbest_latent = read_tensors(ar, "cbest_latent");
  st.cbest_centroids = read_tensors(ar, "cbest_centroids");
  ar.read("optim", optim);
  ar.read("meta", meta);
  json m = json::parse(meta.toStringRef());
  st.epoch_done = m.at("epoch_done");
  st.step = m.at("step");
  st.best_epoch = m.at("best_epoch");
  st.best_acc = m.at("best_acc");
  st.best_loss = m.at("best_loss");
  st.cbest_epoch = m.at("cbest_epoch");
  st.cbest_acc = m.at("cbest_acc");
  st.cbest_loss = m.at("cbest_loss");
  st.since_best = m.at("since_best");
  st.early_stopped = m.at("early_stopped");
  st.history = history_from_json(m.at("history"));
}

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

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

}  // namespace

TrainResult train_model(const Config& cfg, const TrainOptions& opt) {
  const double t_start = now_s();
#if defined(__GLIBC__)
  // Debian's libtorch is up to 2.5x slower with glibc's default mmap/trim thresholds.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  cfg.validate();
  const TrainConfig& tc = cfg.train;
  const FrontendConfig& fe = cfg.frontend;
  const int io_threads =
      opt.io_threads > 0 ? opt.io_threads : std::max(1u, std::thread::hardware_concurrency());
  torch::set_num_threads(tc.threads);
  at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);

  fs::create_directories(opt.out_dir);
  if (::access(opt.out_dir.c_str(), W_OK) != 0)  // e.g. read-only: refuse before any work
    throw InputError(opt.out_dir + ": cannot write there (" + std::strerror(errno) + ")");
  for (auto& e : fs::directory_iterator(opt.out_dir))  // torn checkpoints of a killed run
    if (e.path().filename().string().rfind("checkpoint.pt.tmp", 0) == 0) fs::remove(e.path());
  const std::string ckpt_path = (fs::path(opt.out_dir) / "checkpoint.pt").string();
  const std::string cfg_text = effective_config_text(cfg);
  Progress progress(opt.progress);

  // ---- data --------------------------------------------------------------------------------
  std::unique_ptr<TrainData> data = prepare_train_data(cfg, opt.data_dirs, io_threads);
  progress.message(data->ds.summary());
  const ClassPlan& plan = data->plan;
  const int n_labels = static_cast<int>(plan.labels.size());
  const int n_tr = data->n_train(), n_va = data->n_val();
  const int frames = data->frames, coeffs = data->coeffs;
  const size_t per = data->per;
  const FeatureStats& stats = data->stats;
  const bool per_epoch = data->per_epoch;
  torch::Tensor y_tr = torch::tensor(data->set->labels(), torch::kInt64);
  torch::Tensor y_va = torch::tensor(data->val_labels, torch::kInt64);
  torch::Tensor x_va = to_input(data->va_feats, n_va, frames, coeffs);
  if (plan.unknown >= 0 || plan.silence >= 0)
    progress.message("classes: " + join_words(plan.labels) + "; per epoch " +
                     std::to_string(data->set->num_words()) + " keyword, " +
                     std::to_string(data->set->num_unknown()) + " _unknown_ (from " +
                     join_words(plan.unknown_words) + "), " +
                     std::to_string(data->set->num_silence()) + " _silence_ clips" +
                     (plan.held_out_words.empty()
                          ? std::string()
                          : "; held out: " + join_words(plan.held_out_words)));

  // ---- teacher (knowledge distillation) -----------------------------------------------------
  std::unique_ptr<KwsPipeline> teacher;
  std::vector<float> t_mean, t_inv;  // teacher's normalisation
  std::string teacher_ckpt;          // teacher = "self": its checkpoint (init_from_teacher)
  if (cfg.distill.enabled) {
    std::string tpath;
    if (cfg.distill.teacher == "self") {
      Config tcfg = cfg;
      tcfg.distill = DistillConfig{};
      tcfg.prune = PruneConfig{};
      tcfg.cluster = ClusterConfig{};
      tcfg.quantize = QuantizeConfig{};
      tcfg.model.width_multiplier *= cfg.distill.teacher_width;
      tcfg.text = cfg.text + "\n# distillation teacher of this config\n";
      TrainOptions topt = opt;
      topt.out_dir = (fs::path(opt.out_dir) / "teacher").string();
      topt.stop_after_epoch = 0;
      progress.message("distillation: training the teacher in " + topt.out_dir);
      train_model(tcfg, topt);
      tpath = (fs::path(topt.out_dir) / "model.tkws").string();
      teacher_ckpt = (fs::path(topt.out_dir) / "checkpoint.pt").string();
    } else {
      fs::path p(cfg.distill.teacher);
      tpath = p.is_absolute() ? p.string() : (fs::path(cfg.source).parent_path() / p).string();
    }
    Model tm = read_model(tpath);
    const FrontendConfig& tf = tm.frontend;
    if (tm.labels != plan.labels || !(tf == fe))
      throw InputError(tpath + ": the teacher's front end or labels differ from this config's");
    teacher = std::make_unique<KwsPipeline>();
    if (auto s = teacher->create(tm); !s.ok())
      throw InputError(tpath + ": the runtime cannot run the teacher: " + s.message);
    t_mean = tm.norm_mean;
    t_inv = tm.norm_inv_std;
  }
  // Teacher probabilities of a batch of student-normalised features [B][frames][coeffs].
  std::vector<float> t_in(per);
  auto teacher_probs = [&](const torch::Tensor& xb) {
    auto x = xb.contiguous();
    const int64_t B = x.size(0);
    auto out = torch::empty({B, n_labels});
    const float* px = x.data_ptr<float>();
    for (int64_t i = 0; i < B; ++i) {
      for (size_t j = 0; j < per; ++j) {
        size_t k = j % coeffs;
        float raw =
            tc.normalize ? px[i * per + j] / stats.inv_std[k] + stats.mean[k] : px[i * per + j];
        t_in[j] = t_mean.empty() ? raw : (raw - t_mean[k]) * t_inv[k];
      }
      teacher->network(t_in.data(), out[i].data_ptr<float>());
    }
    return out;
  };
  const double kd_alpha = cfg.distill.alpha, kd_t = cfg.distill.temperature;

  // ---- network, optimiser, compression --------------------------------------------------
  torch::manual_seed(tc.seed);
  KwsNet net(cfg.model, frames, coeffs, n_labels);
  const bool resuming = opt.resume && fs::exists(ckpt_path);
  if (cfg.distill.init_from_teacher && !resuming) {
    std::vector<torch::Tensor> w = read_selected_weights(teacher_ckpt);
    if (w.size() != snapshot_state(*net).size())
      throw std::runtime_error(teacher_ckpt + ": the teacher's weights do not fit the student");
    load_state(*net, w);
    progress.message("distillation: the student starts from the teacher's weights");
  }
  auto adam_opts = torch::optim::AdamOptions(tc.lr_initial).weight_decay(tc.weight_decay);
  torch::optim::Adam adam(net->parameters(), adam_opts);
  const int bs = std::min(tc.batch_size, n_tr);
  const int steps_per_epoch = (n_tr + bs - 1) / bs;
  const int64_t total_steps = static_cast<int64_t>(tc.epochs) * steps_per_epoch;
  const int64_t warmup = static_cast<int64_t>(tc.warmup_epochs) * steps_per_epoch;
  const int cluster_epochs = cfg.cluster.enabled ? cfg.cluster.epochs : 0;
  const int all_epochs = tc.epochs + cluster_epochs;
  std::unique_ptr<Pruner> pruner;
  if (cfg.prune.enabled)
    pruner = std::make_unique<Pruner>(cfg.prune, net, total_steps, steps_per_epoch);

  TrainState st;
  st.ema = snapshot_state(*net);
  std::vector<torch::Tensor> ckpt_model;
  torch::serialize::InputArchive ckpt_optim;
  bool resumed = false;
  if (resuming) {
    load_checkpoint(ckpt_path, st, ckpt_model, ckpt_optim, cfg_text);
    resumed = true;
    progress.message("resuming after epoch " + std::to_string(st.epoch_done) + " from " +
                     ckpt_path);
    if (st.epoch_done <= tc.epochs && !st.early_stopped) {
      load_state(*net, ckpt_model);
      adam.load(ckpt_optim);
    }
    if (pruner && !st.masks.empty()) pruner->masks() = st.masks;
  } else if (opt.resume) {
    progress.message("no checkpoint in " + opt.out_dir + "; starting from scratch");
  }
  progress.message("network: " + std::to_string(net->num_parameters()) + " parameters; input " +
                   std::to_string(frames) + " frames x " + std::to_string(coeffs) +
                   " coefficients; " + std::to_string(n_tr) + " training, " + std::to_string(n_va) +
                   " validation clips");
  auto ls_opts =
      torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(tc.label_smoothing);

  // Augmented features of the next epoch are computed in the background while this one trains.
  std::future<std::vector<float>> next;
  auto prefetch = [&](int epoch) {
    if (per_epoch && epoch <= all_epochs)
      next = std::async(std::launch::async,
                        [&, epoch] { return data->epoch_features(cfg, epoch, io_threads); });
  };
  prefetch(st.epoch_done + 1);

  // One epoch over the training clips. `before_forward` installs clustered weights;
  // `after_step` does pruning / EMA. Returns (mean loss, accuracy, last lr).
  auto run_epoch = [&](int epoch, torch::optim::Optimizer& optim, auto lr_of_step,
                       auto before_forward, auto after_step) {
    std::vector<float> feats = per_epoch ? next.get() : data->tr_clean;
    prefetch(epoch + 1);
    if (tc.augment.masking())
      for (int i = 0; i < n_tr; ++i)
        mask_features(feats.data() + per * i, frames, coeffs, tc.augment,
                      stream_seed(tc.seed, epoch, i, kMaskStream));
    torch::Tensor x_all = to_input(feats, n_tr, frames, coeffs);
    std::vector<int64_t> order(n_tr);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuf(stream_seed(tc.seed, epoch, 0, kShuffleStream));
    for (int i = n_tr - 1; i > 0; --i) std::swap(order[i], order[shuf() % (i + 1)]);
    torch::Tensor perm = torch::tensor(order, torch::kInt64);
    torch::manual_seed(stream_seed(tc.seed, epoch, 0, kDropoutStream) >> 1);
    net->train();
    double loss_sum = 0, correct = 0, lr = 0;
    progress.begin_epoch(epoch, all_epochs, steps_per_epoch);
    for (int b = 0; b < steps_per_epoch; ++b) {
      int64_t lo = static_cast<int64_t>(b) * bs, hi = std::min<int64_t>(lo + bs, n_tr);
      auto idx = perm.slice(0, lo, hi);
      auto xb = x_all.index_select(0, idx), yb = y_tr.index_select(0, idx);
      lr = lr_of_step();
      set_lr(optim, lr);
      optim.zero_grad();
      before_forward();
      auto logits = net->forward(xb);
      auto loss = torch::nn::functional::cross_entropy(logits, yb, ls_opts);
      if (teacher) {
        // Soft targets softmax(log p_t / T); KL term scaled by T^2 (Hinton et al., 2015).
        auto pt = torch::softmax(torch::log(teacher_probs(xb).clamp_min(1e-12)) / kd_t, 1);
        auto log_ps = torch::log_softmax(logits / kd_t, 1);
        auto kl = (pt * (torch::log(pt.clamp_min(1e-12)) - log_ps)).sum(1).mean();
        loss = (1.0 - kd_alpha) * loss + kd_alpha * kd_t * kd_t * kl;
      }
      loss.backward();
      optim.step();
      after_step();
      loss_sum += loss.item<double>() * static_cast<double>(hi - lo);
      correct += logits.argmax(1).eq(yb).sum().item<double>();
      progress.step(b + 1, loss_sum / hi, correct / hi);
    }
    return std::tuple<double, double, double>{loss_sum / n_tr, correct / n_tr, lr};
  };
  auto finish_epoch = [&](EpochRecord rec, double t_epoch, double best_acc, int best_epoch,
                          torch::optim::Optimizer& optim) {
    rec.sparsity = pruner ? pruner->sparsity() : 0.0;
    rec.seconds = now_s() - t_epoch;
    st.history.push_back(rec);
    st.epoch_done = rec.epoch;
    if (pruner) st.masks = pruner->masks();
    progress.end_epoch(rec, best_acc, best_epoch);
    save_checkpoint(ckpt_path, net, optim, st, cfg_text);
  };

  // opt.stop_after_epoch: leave as a kill would (checkpoint written, no model).
  auto stop_here = [&](int epoch) {
    return opt.stop_after_epoch > 0 && epoch >= opt.stop_after_epoch && epoch < all_epochs;
  };
  auto interrupted = [&] {
    if (next.valid()) next.wait();
    TrainResult r;
    r.history = st.history;
    r.interrupted = true;
    return r;
  };

  // ---- phase 1: training (with the pruning schedule) ---------------------------------------
  for (int epoch = st.epoch_done + 1; epoch <= tc.epochs && !st.early_stopped; ++epoch) {
    const double t_epoch = now_s();
    auto [loss, acc, lr] = run_epoch(
        epoch, adam, [&] { return lr_at(tc, st.step, total_steps, warmup); }, [] {},
        [&] {
          if (pruner) pruner->after_step(st.step);
          ++st.step;
          if (tc.ema_decay > 0) {
            torch::NoGradGuard g;
            size_t i = 0;
            for (auto& p : net->parameters())
              st.ema[i++].mul_(tc.ema_decay).add_(p, 1 - tc.ema_decay);
            for (auto& bu : net->buffers()) st.ema[i++].copy_(bu);
          }
        });
    // Validation with the weights that would be exported (EMA when on, masks applied).
    std::vector<torch::Tensor> live;
    if (tc.ema_decay > 0) {
      live = snapshot_state(*net);
      load_state(*net, st.ema);
      if (pruner) pruner->apply();
    }
    EvalOut v = evaluate(net, x_va, y_va, *data);
    // With pruning, only epochs whose masks have reached the final sparsity can be selected.
    bool eligible = !pruner || pruner->done(st.step);
    bool better =
        eligible && (v.score > st.best_acc || (v.score == st.best_acc && v.loss < st.best_loss));
    if (better) {
      st.best = snapshot_state(*net);
      st.best_acc = v.score, st.best_loss = v.loss, st.best_epoch = epoch, st.since_best = 0;
    } else if (eligible) {
      ++st.since_best;
    }
    EpochRecord rec;
    rec.epoch = epoch, rec.lr = lr, rec.train_loss = loss, rec.train_acc = acc;
    rec.val_loss = v.loss, rec.val_acc = v.acc, rec.val_score = v.score;
    if (tc.ema_decay > 0) {
      rec.sparsity = pruner ? pruner->sparsity() : 0.0;  // of the evaluated (EMA) weights
      load_state(*net, live);
    }
    if (tc.patience > 0 && st.since_best >= tc.patience && epoch < tc.epochs) {
      progress.message("early stop: no validation gain for " + std::to_string(tc.patience) +
                       " epochs");
      st.early_stopped = true;
    }
    finish_epoch(rec, t_epoch, st.best_acc, st.best_epoch, adam);
    if (stop_here(epoch)) return interrupted();
  }
  if (st.best.empty()) throw std::runtime_error("no epoch was eligible for selection");
  load_state(*net, st.best);
  if (pruner) pruner->apply();

  // ---- phase 2: clustering fine-tune (sparsity kept) ---------------------------------------
  if (cluster_epochs > 0) {
    Clusterer clus(cfg.cluster, net, tc.seed);
    std::vector<torch::Tensor> params = net->parameters();
    for (auto& c : clus.centroids()) params.push_back(c);
    const double clr = cfg.cluster.lr > 0 ? cfg.cluster.lr : tc.lr_final;
    torch::optim::Adam cadam(params, torch::optim::AdamOptions(clr));
    if (resumed && st.epoch_done > tc.epochs) {  // resuming inside this phase
      load_state(*net, ckpt_model);
      torch::NoGradGuard g;
      for (size_t i = 0; i < st.centroids.size(); ++i) clus.state()[i].copy_(st.centroids[i]);
      cadam.load(ckpt_optim);
    }
    for (int epoch = std::max(st.epoch_done, tc.epochs) + 1; epoch <= all_epochs; ++epoch) {
      const double t_epoch = now_s();
      auto [loss, acc, lr] = run_epoch(
          epoch, cadam, [&] { return clr; }, [&] { clus.before_forward(); },
          [&] {
            if (pruner) pruner->apply();  // masks are final: unclustered kernels stay sparse
          });
      {
        torch::NoGradGuard g;
        clus.before_forward();  // clustered values, no graph
      }
      EvalOut v = evaluate(net, x_va, y_va, *data);
      clus.restore_layers();
      if (v.score > st.cbest_acc || (v.score == st.cbest_acc && v.loss < st.cbest_loss)) {
        st.cbest_latent = snapshot_state(*net);
        st.cbest_centroids.clear();
        for (auto& c : clus.state()) st.cbest_centroids.push_back(c.detach().clone());
        st.cbest_acc = v.score, st.cbest_loss = v.loss, st.cbest_epoch = epoch;
      }
      st.centroids.clear();
      for (auto& c : clus.state()) st.centroids.push_back(c.detach().clone());
      EpochRecord rec;
      rec.epoch = epoch, rec.phase = "cluster", rec.lr = lr, rec.train_loss = loss;
      rec.train_acc = acc, rec.val_loss = v.loss, rec.val_acc = v.acc, rec.val_score = v.score;
      finish_epoch(rec, t_epoch, st.cbest_acc, st.cbest_epoch, cadam);
      if (stop_here(epoch)) return interrupted();
    }
    load_state(*net, st.cbest_latent);
    {
      torch::NoGradGuard g;
      for (size_t i = 0; i < st.cbest_centroids.size(); ++i)
        clus.state()[i].copy_(st.cbest_centroids[i]);
    }
    clus.finalize();  // exact centroid values into the weights
    st.best_acc = st.cbest_acc, st.best_loss = st.cbest_loss, st.best_epoch = st.cbest_epoch;
  }
  if (next.valid()) next.wait();
  const bool stopped_early = st.early_stopped;

  // ---- export the selected model -----------------------------------------------------------
  net->eval();
  Model model;
  model.frontend = fe;
  model.labels = plan.labels;
  model.keyword_flags = plan.keyword_flags;
  if (tc.normalize) {
    model.norm_mean = stats.mean;
    model.norm_inv_std = stats.inv_std;
  }
  net->export_to(model);
  // Deterministic provenance only (no times, no paths): the file must be byte-reproducible.
  // The config itself is in the run folder (config.toml); the file keeps its hash.
  uint64_t fnv = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char ch : cfg_text) fnv = (fnv ^ ch) * 0x100000001b3ull;
  char cfg_hash[17];
  std::snprintf(cfg_hash, sizeof cfg_hash, "%016llx", static_cast<unsigned long long>(fnv));
  json meta = {{"producer", "tinykws train"}, {"config_hash", cfg_hash},
               {"best_epoch", st.best_epoch}, {"val_accuracy", st.best_acc},
               {"val_loss", st.best_loss},    {"parameters", net->num_parameters()}};
  if (!plan.keyword_flags.empty()) {  // keyword model: what eval needs to group other words
    meta.erase("val_accuracy");
    meta["val_score"] = st.best_acc;
    meta["unknown_words"] = plan.unknown_words;
    meta["held_out_words"] = plan.held_out_words;
  }
  model.metadata_json = meta.dump();
  if (auto err = check_model(model); !err.empty())
    throw std::runtime_error("exported model is inconsistent: " + err);

  // Validation accuracy of a model as the tinykws runtime runs it: the number users will see.
  std::vector<std::vector<float>> val_probs;
  auto val_accuracy = [&](const Model& m) {
    KwsPipeline pipe;
    if (auto s = pipe.create(m); !s.ok())
      throw std::runtime_error("runtime cannot run the exported model: " + std::string(s.message));
    val_probs = runtime_probs(pipe, data->val_clips);
    return argmax_accuracy(val_probs, data->val_labels);
  };
  const double float_acc = val_accuracy(model);
  switch (cfg.quantize.mode) {
    case QuantMode::kNone:
      break;
    case QuantMode::kFloat16:
      to_float16(model);
      break;
    case QuantMode::kInt8: {
      const std::vector<int> pick =
          calibration_clips(data->set->num_words(), cfg.quantize.calibration_clips, tc.seed);
      const int nc = static_cast<int>(pick.size());
      std::vector<float> calib(per * nc);
      for (int i = 0; i < nc; ++i)
        std::copy_n(data->tr_clean.data() + per * pick[i], per, calib.data() + per * i);
      model = quantize_int8(model, calib.data(), nc);
      break;
    }
  }
  const std::string model_path = (fs::path(opt.out_dir) / "model.tkws").string();
  write_model(model_path, model);
  const double rt_acc = val_accuracy(read_model(model_path));

  TrainResult res;
  res.history = st.history;
  res.best_epoch = st.best_epoch;
  res.best_val_acc = st.best_acc;
  res.best_val_loss = st.best_loss;
  res.runtime_val_acc = rt_acc;
  res.float_val_acc = float_acc;
  res.parameters = net->num_parameters();
  res.model_bytes = fs::file_size(model_path);
  res.seconds = now_s() - t_start;
  res.stopped_early = stopped_early;

  std::vector<ScoredClip> scored(val_probs.size());
  for (size_t i = 0; i < scored.size(); ++i)
    scored[i] = {data->val_names[i], data->val_words[i], static_cast<int>(data->val_labels[i]),
                 static_cast<ClipGroup>(data->val_groups[i]), std::move(val_probs[i])};
  const KwsMetrics kws = kws_metrics(scored, plan.labels, plan.keyword_flags);
  json metrics = {{"val_accuracy", res.runtime_val_acc},
                  {"val_score", res.best_val_acc},
                  {"kws", to_json(kws)},
                  {"val_accuracy_torch", res.best_val_acc},
                  {"val_accuracy_float", res.float_val_acc},
                  {"quantize", cfg.quantize.mode == QuantMode::kInt8      ? "int8"
                               : cfg.quantize.mode == QuantMode::kFloat16 ? "fp16"
                                                                          : "none"},
                  {"sparsity", pruner ? pruner->sparsity() : 0.0},
                  {"val_loss", res.best_val_loss},
                  {"best_epoch", res.best_epoch},
                  {"epochs_run", st.epoch_done},
                  {"stopped_early", stopped_early},
                  {"parameters", res.parameters},
                  {"model_bytes", res.model_bytes},
                  {"n_train", n_tr},
                  {"n_val", n_va},
                  {"labels", plan.labels},
                  {"seed", tc.seed},
                  {"threads", tc.threads},
                  {"train_seconds", res.seconds},
                  {"history", history_json(st.history)}};
  write_file_atomic((fs::path(opt.out_dir) / "metrics.json").string(), metrics.dump(2) + "\n");
  write_file_atomic((fs::path(opt.out_dir) / "config.toml").string(), cfg_text);
  if (!plan.keyword_flags.empty()) progress.message(to_text(kws));
  progress.message("best epoch " + std::to_string(res.best_epoch) + ": validation accuracy " +
                   std::to_string(100.0 * res.runtime_val_acc).substr(0, 6) + " % (runtime), " +
                   std::to_string(res.model_bytes) + " bytes, " +
                   std::to_string(res.seconds).substr(0, 5) + " s");
  return res;
}

}  // namespace tkws
