// The epochs of a run (run_state.h): the training phase (learning-rate schedule, EMA, the
// pruning schedule, early stopping) and the clustering phase (centroid fine-tuning with the
// masks kept), each selecting its best epoch on the validation split and checkpointing after
// every epoch.
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>

#include "tinykws/eval/kws_metrics.h"
#include "tinykws/train/feature_set.h"
#include "tinykws/train/run_state.h"

namespace tkws {

namespace {

constexpr uint64_t kMaskStream = 3, kDropoutStream = 4;

// Learning rate at global step `step` of `total`: after a linear warm-up from 0.1 x initial,
// from lr_initial to lr_final by the schedule (docs/training.md).
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

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

struct EvalOut {
  double loss = 0, acc = 0;
  double score = 0;  // what selects the model: kws_selection_score (= acc for keyword-only)
};

// The network on the validation set, in eval mode.
EvalOut evaluate(TrainRun& r) {
  torch::NoGradGuard g;
  r.net->eval();
  auto logits = r.net->forward(r.x_va);
  auto loss = torch::nn::functional::cross_entropy(logits, r.y_va).item<double>();
  auto pred_t = logits.argmax(1);
  auto acc = pred_t.eq(r.y_va).to(torch::kFloat64).mean().item<double>();
  pred_t = pred_t.to(torch::kInt32).contiguous();
  std::vector<int> pred(pred_t.data_ptr<int>(), pred_t.data_ptr<int>() + pred_t.numel());
  const TrainData& d = *r.data;
  return {loss, acc, kws_selection_score(pred, d.val_labels, d.val_groups, d.plan.keyword_flags)};
}

// What a phase does around each optimizer step.
struct StepHooks {
  std::function<double()> lr;            // learning rate of the coming step
  std::function<void()> before_forward;  // optional: e.g. install clustered weights
  std::function<void()> after_step;      // e.g. pruning, EMA
};

struct EpochOut {
  double loss = 0, acc = 0, lr = 0;  // mean training loss and accuracy, the last step's lr
};

// One epoch over the training clips: masked features, a shuffled order, the loss (with the
// teacher's soft targets when distilling), one optimizer step per batch.
EpochOut run_epoch(TrainRun& r, int epoch, torch::optim::Optimizer& optim, const StepHooks& h) {
  const TrainConfig& tc = r.cfg.train;
  const TrainData& d = *r.data;
  const int n_tr = d.n_train(), frames = d.frames, coeffs = d.coeffs;
  const size_t per = d.per;
  std::vector<float> feats = d.per_epoch ? r.next.get() : d.tr_clean;
  prefetch(r, epoch + 1);
  if (tc.augment.masking())
    for (int i = 0; i < n_tr; ++i)
      mask_features(feats.data() + per * i, frames, coeffs, tc.augment,
                    stream_seed(tc.seed, epoch, i, kMaskStream));
  torch::Tensor x_all = torch::from_blob(feats.data(), {n_tr, 1, frames, coeffs}, torch::kFloat32);
  std::vector<int64_t> order(n_tr);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 shuf(stream_seed(tc.seed, epoch, 0, kShuffleStream));
  for (int i = n_tr - 1; i > 0; --i) std::swap(order[i], order[shuf() % (i + 1)]);
  torch::Tensor perm = torch::tensor(order, torch::kInt64);
  torch::manual_seed(stream_seed(tc.seed, epoch, 0, kDropoutStream) >> 1);
  auto ls_opts =
      torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(tc.label_smoothing);
  const double kd_alpha = r.cfg.distill.alpha, kd_t = r.cfg.distill.temperature;
  r.net->train();
  double loss_sum = 0, correct = 0, lr = 0;
  r.progress.begin_epoch(epoch, r.all_epochs, r.steps_per_epoch);
  for (int b = 0; b < r.steps_per_epoch; ++b) {
    int64_t lo = static_cast<int64_t>(b) * r.batch, hi = std::min<int64_t>(lo + r.batch, n_tr);
    auto idx = perm.slice(0, lo, hi);
    auto xb = x_all.index_select(0, idx), yb = r.y_tr.index_select(0, idx);
    lr = h.lr();
    set_lr(optim, lr);
    optim.zero_grad();
    if (h.before_forward) h.before_forward();
    auto logits = r.net->forward(xb);
    auto loss = torch::nn::functional::cross_entropy(logits, yb, ls_opts);
    if (r.teacher.pipeline) {
      // Soft targets softmax(log p_t / T); KL term scaled by T^2 (Hinton et al., 2015).
      auto pt = torch::softmax(torch::log(teacher_probs(r, xb).clamp_min(1e-12)) / kd_t, 1);
      auto log_ps = torch::log_softmax(logits / kd_t, 1);
      auto kl = (pt * (torch::log(pt.clamp_min(1e-12)) - log_ps)).sum(1).mean();
      loss = (1.0 - kd_alpha) * loss + kd_alpha * kd_t * kd_t * kl;
    }
    loss.backward();
    optim.step();
    h.after_step();
    loss_sum += loss.item<double>() * static_cast<double>(hi - lo);
    correct += logits.argmax(1).eq(yb).sum().item<double>();
    r.progress.step(b + 1, loss_sum / hi, correct / hi);
  }
  return {loss_sum / n_tr, correct / n_tr, lr};
}

// Records the epoch, prints it and writes the checkpoint.
void finish_epoch(TrainRun& r, EpochRecord rec, double t_epoch, double best_acc, int best_epoch,
                  torch::optim::Optimizer& optim) {
  rec.sparsity = r.pruner ? r.pruner->sparsity() : 0.0;
  rec.seconds = steady_seconds() - t_epoch;
  r.st.history.push_back(rec);
  r.st.epoch_done = rec.epoch;
  if (r.pruner) r.st.masks = r.pruner->masks();
  r.progress.end_epoch(rec, best_acc, best_epoch);
  save_checkpoint(r.ckpt_path, r.net, optim, r.st, r.cfg_text);
}

// opt.stop_after_epoch: leave as a kill would (checkpoint written, no model).
bool stop_here(const TrainRun& r, int epoch) {
  return r.opt.stop_after_epoch > 0 && epoch >= r.opt.stop_after_epoch && epoch < r.all_epochs;
}

// The EMA of the weights after a step (parameters; buffers are copied).
void update_ema(TrainRun& r) {
  const double decay = r.cfg.train.ema_decay;
  torch::NoGradGuard g;
  size_t i = 0;
  for (auto& p : r.net->parameters()) r.st.ema[i++].mul_(decay).add_(p, 1 - decay);
  for (auto& bu : r.net->buffers()) r.st.ema[i++].copy_(bu);
}

}  // namespace

bool training_phase(TrainRun& r) {
  const TrainConfig& tc = r.cfg.train;
  TrainState& st = r.st;
  StepHooks hooks;
  hooks.lr = [&] { return lr_at(tc, st.step, r.total_steps, r.warmup); };
  hooks.after_step = [&] {
    if (r.pruner) r.pruner->after_step(st.step);
    ++st.step;
    if (tc.ema_decay > 0) update_ema(r);
  };
  for (int epoch = st.epoch_done + 1; epoch <= tc.epochs && !st.early_stopped; ++epoch) {
    const double t_epoch = steady_seconds();
    const EpochOut e = run_epoch(r, epoch, *r.adam, hooks);
    // Validation with the weights that would be exported (EMA when on, masks applied).
    std::vector<torch::Tensor> live;
    if (tc.ema_decay > 0) {
      live = snapshot_state(*r.net);
      load_state(*r.net, st.ema);
      if (r.pruner) r.pruner->apply();
    }
    const EvalOut v = evaluate(r);
    // With pruning, only epochs whose masks have reached the final sparsity can be selected.
    const bool eligible = !r.pruner || r.pruner->done(st.step);
    const bool better =
        eligible && (v.score > st.best_acc || (v.score == st.best_acc && v.loss < st.best_loss));
    if (better) {
      st.best = snapshot_state(*r.net);
      st.best_acc = v.score, st.best_loss = v.loss, st.best_epoch = epoch, st.since_best = 0;
    } else if (eligible) {
      ++st.since_best;
    }
    EpochRecord rec;
    rec.epoch = epoch, rec.lr = e.lr, rec.train_loss = e.loss, rec.train_acc = e.acc;
    rec.val_loss = v.loss, rec.val_acc = v.acc, rec.val_score = v.score;
    if (tc.ema_decay > 0) {
      rec.sparsity = r.pruner ? r.pruner->sparsity() : 0.0;  // of the evaluated (EMA) weights
      load_state(*r.net, live);
    }
    if (tc.patience > 0 && st.since_best >= tc.patience && epoch < tc.epochs) {
      r.progress.message("early stop: no validation gain for " + std::to_string(tc.patience) +
                         " epochs");
      st.early_stopped = true;
    }
    finish_epoch(r, rec, t_epoch, st.best_acc, st.best_epoch, *r.adam);
    if (stop_here(r, epoch)) return false;
  }
  if (st.best.empty()) throw std::runtime_error("no epoch was eligible for selection");
  load_state(*r.net, st.best);
  if (r.pruner) r.pruner->apply();
  return true;
}

bool clustering_phase(TrainRun& r) {
  if (r.cluster_epochs <= 0) return true;
  const TrainConfig& tc = r.cfg.train;
  TrainState& st = r.st;
  Clusterer clus(r.cfg.cluster, r.net, tc.seed);
  std::vector<torch::Tensor> params = r.net->parameters();
  for (auto& c : clus.centroids()) params.push_back(c);
  const double clr = r.cfg.cluster.lr > 0 ? r.cfg.cluster.lr : tc.lr_final;
  torch::optim::Adam cadam(params, torch::optim::AdamOptions(clr));
  if (r.resumed && st.epoch_done > tc.epochs) {  // resuming inside this phase
    load_state(*r.net, r.ckpt_model);
    torch::NoGradGuard g;
    for (size_t i = 0; i < st.centroids.size(); ++i) clus.state()[i].copy_(st.centroids[i]);
    cadam.load(r.ckpt_optim);
  }
  StepHooks hooks;
  hooks.lr = [&] { return clr; };
  hooks.before_forward = [&] { clus.before_forward(); };
  hooks.after_step = [&] {
    if (r.pruner) r.pruner->apply();  // masks are final: unclustered kernels stay sparse
  };
  for (int epoch = std::max(st.epoch_done, tc.epochs) + 1; epoch <= r.all_epochs; ++epoch) {
    const double t_epoch = steady_seconds();
    const EpochOut e = run_epoch(r, epoch, cadam, hooks);
    {
      torch::NoGradGuard g;
      clus.before_forward();  // clustered values, no graph
    }
    const EvalOut v = evaluate(r);
    clus.restore_layers();
    if (v.score > st.cbest_acc || (v.score == st.cbest_acc && v.loss < st.cbest_loss)) {
      st.cbest_latent = snapshot_state(*r.net);
      st.cbest_centroids.clear();
      for (auto& c : clus.state()) st.cbest_centroids.push_back(c.detach().clone());
      st.cbest_acc = v.score, st.cbest_loss = v.loss, st.cbest_epoch = epoch;
    }
    st.centroids.clear();
    for (auto& c : clus.state()) st.centroids.push_back(c.detach().clone());
    EpochRecord rec;
    rec.epoch = epoch, rec.phase = "cluster", rec.lr = e.lr, rec.train_loss = e.loss;
    rec.train_acc = e.acc, rec.val_loss = v.loss, rec.val_acc = v.acc, rec.val_score = v.score;
    finish_epoch(r, rec, t_epoch, st.cbest_acc, st.cbest_epoch, cadam);
    if (stop_here(r, epoch)) return false;
  }
  load_state(*r.net, st.cbest_latent);
  {
    torch::NoGradGuard g;
    for (size_t i = 0; i < st.cbest_centroids.size(); ++i)
      clus.state()[i].copy_(st.cbest_centroids[i]);
  }
  clus.finalize();  // exact centroid values into the weights
  st.best_acc = st.cbest_acc, st.best_loss = st.cbest_loss, st.best_epoch = st.cbest_epoch;
  return true;
}

}  // namespace tkws
