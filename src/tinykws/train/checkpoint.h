// The training checkpoint, out_dir/checkpoint.pt: everything a resumed run needs (weights, EMA,
// best-so-far of both phases, pruning masks, centroids, optimizer state, history), written
// atomically after every epoch. Internal to train/: includes torch headers.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tinykws/train/network.h"
#include "tinykws/train/trainer.h"

namespace tkws {

// The progress of a run: what the checkpoint stores besides the live weights and optimizer.
struct TrainState {
  int epoch_done = 0;                           // over both phases
  int64_t step = 0;                             // optimizer steps of the training phase
  std::vector<torch::Tensor> ema, best, masks;  // snapshot_state order; masks: Pruner's
  std::vector<torch::Tensor> cbest_latent, cbest_centroids, centroids;  // clustering phase
  int best_epoch = 0;
  double best_acc = -1, best_loss = 1e30;  // best_acc: the selected epoch's val_score
  int cbest_epoch = 0;
  double cbest_acc = -1, cbest_loss = 1e30;
  int since_best = 0;
  bool early_stopped = false;
  std::vector<EpochRecord> history;
};

// The epoch records as a JSON array (the checkpoint's meta and metrics.json "history").
nlohmann::json history_json(const std::vector<EpochRecord>& h);

// Writes net's weights, opt's state and st to `path` atomically; `config_text` is what a
// resume must match (the effective config).
void save_checkpoint(const std::string& path, KwsNet& net, torch::optim::Optimizer& opt,
                     const TrainState& st, const std::string& config_text);

// Reads the checkpoint at `path` into st and `model` (the live weights, snapshot_state order);
// the optimizer state is returned as an archive to load into whichever optimizer the phase
// builds. InputError when the file is damaged or was written with another config.
void load_checkpoint(const std::string& path, TrainState& st, std::vector<torch::Tensor>& model,
                     torch::serialize::InputArchive& optim, const std::string& config_text);

// The weights a finished run selected (its model.tkws before export), in snapshot_state order.
std::vector<torch::Tensor> read_selected_weights(const std::string& path);

}  // namespace tkws
