// One training run (train_model, trainer.h) as phases over one state, in the order
// train_model calls them:
//   prepare_data      the clips, classes, features and validation set (train_data.h)
//   prepare_teacher   distillation: the teacher model (trained first when teacher = "self")
//   build_network     network, optimiser, pruner, schedule; resumes from the checkpoint
//   training_phase    the epochs of [train] with the pruning schedule; selects the best epoch
//   clustering_phase  [cluster] fine-tuning epochs (sparsity kept); selects among its epochs
//   export_model      model.tkws (quantised as configured), metrics.json, config.toml
// Internal to train/: includes torch headers.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "tinykws/config/config.h"
#include "tinykws/runtime/pipeline.h"
#include "tinykws/train/checkpoint.h"
#include "tinykws/train/compress.h"
#include "tinykws/train/network.h"
#include "tinykws/train/progress.h"
#include "tinykws/train/train_data.h"
#include "tinykws/train/trainer.h"

namespace tkws {

// The distillation teacher, run by the tinykws runtime on the student's batches.
struct Teacher {
  std::unique_ptr<KwsPipeline> pipeline;  // null: no distillation
  std::vector<float> mean, inv_std;       // the teacher's normalisation (empty: none)
  std::string checkpoint;                 // teacher = "self": its checkpoint.pt (init_from_teacher)
  std::vector<float> input;               // [frames * coeffs] scratch for one clip
};

struct TrainRun {
  // Validates cfg, sets torch's threads and determinism, prepares the run folder (refuses an
  // unwritable one, removes torn checkpoints of a killed run).
  TrainRun(const Config& cfg, const TrainOptions& opt);

  // ---- settings ----
  const Config& cfg;
  const TrainOptions& opt;
  double t_start = 0;  // steady clock, seconds
  int io_threads = 1;
  std::string ckpt_path;  // out_dir/checkpoint.pt
  std::string cfg_text;   // the effective config: what a resume must match
  Progress progress;

  // ---- prepare_data ----
  std::unique_ptr<TrainData> data;
  torch::Tensor y_tr, y_va;  // labels [n_train], [n_val] (int64)
  torch::Tensor x_va;        // validation features [n_val][1][frames][coeffs] (data->va_feats)

  // ---- prepare_teacher ----
  Teacher teacher;

  // ---- build_network ----
  KwsNet net{nullptr};
  std::unique_ptr<torch::optim::Adam> adam;  // the training phase's optimizer
  std::unique_ptr<Pruner> pruner;            // null without [prune]
  int batch = 0, steps_per_epoch = 0;
  int64_t total_steps = 0, warmup = 0;  // optimizer steps of the training phase, of warm-up
  int cluster_epochs = 0, all_epochs = 0;

  // ---- the run's progress (checkpointed after every epoch) ----
  TrainState st;
  bool resumed = false;                   // st came from the checkpoint
  std::vector<torch::Tensor> ckpt_model;  // its live weights, for the phase it stopped in
  torch::serialize::InputArchive ckpt_optim;

  // Augmented features of the next epoch, computed in the background while one trains.
  std::future<std::vector<float>> next;
};

// Seconds on the steady clock (epoch and run times).
double steady_seconds();

void prepare_data(TrainRun& r);
void prepare_teacher(TrainRun& r);
void build_network(TrainRun& r);
// Each returns false when opt.stop_after_epoch stopped the run (checkpoint written, no model).
bool training_phase(TrainRun& r);
bool clustering_phase(TrainRun& r);
TrainResult export_model(TrainRun& r);

// Teacher probabilities of a batch of student-normalised features [B][1][frames][coeffs] ->
// [B][num_labels].
torch::Tensor teacher_probs(TrainRun& r, const torch::Tensor& xb);

// Starts computing the features of `epoch` in the background when they change per epoch.
void prefetch(TrainRun& r, int epoch);
void wait_prefetch(TrainRun& r);

}  // namespace tkws
