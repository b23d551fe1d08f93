// Training entry point. Torch-free header: the CLI includes it without paying for libtorch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/config/config.h"

namespace tkws {

struct TrainOptions {
  std::vector<std::string> data_dirs;  // merged by label (audio/dataset.h scan_datasets)
  std::string out_dir;                 // created if missing; receives model.tkws, metrics.json, ...
  bool resume = false;                 // continue from out_dir/checkpoint.pt (same config required)
  bool progress = true;                // progress bar (terminal) or one line per epoch (pipe)
  int io_threads = 0;                  // clip loading / feature workers; 0 = hardware threads
  // Stop (as if killed) after this epoch, leaving the checkpoint but no model; 0 = never.
  // For tests of --resume and for time-boxed runs.
  int stop_after_epoch = 0;
};

struct EpochRecord {
  int epoch = 0;                // 1-based, counting on through the clustering epochs
  std::string phase = "train";  // "train" or "cluster"
  double lr = 0;                // learning rate at the epoch's last step
  double train_loss = 0, train_acc = 0;
  double val_loss = 0, val_acc = 0;
  // What selects the model: for a keyword model with _unknown_ / _silence_ classes the mean of
  // the validation groups' rates (class_plan.h kws_selection_score); else val_acc.
  double val_score = 0;
  double sparsity = 0;  // measured fraction of zeros in the prunable kernels
  double seconds = 0;   // wall time of the epoch (not stored in the model file)
};

struct TrainResult {
  std::vector<EpochRecord> history;
  int best_epoch = 0;
  double best_val_acc = 0, best_val_loss = 0;  // best_val_acc: the selected epoch's val_score
  double runtime_val_acc = 0;  // the exported model.tkws run by the tinykws runtime on val
  double float_val_acc = 0;    // the same before quantisation (runtime, float weights)
  int64_t parameters = 0;
  size_t model_bytes = 0;
  double seconds = 0;  // whole run, including feature extraction
  bool stopped_early = false;
  bool interrupted = false;  // stop_after_epoch reached: no model written
};

// Trains cfg on the data folders opt.data_dirs; the model is selected on the validation split
// only. Writes opt.out_dir/{model.tkws, metrics.json, config.toml, checkpoint.pt}, each
// atomically. Same config + data + seed + threads => byte-identical model.tkws.
// Throws InputError for bad data/config, std::runtime_error for other failures.
TrainResult train_model(const Config& cfg, const TrainOptions& opt);

}  // namespace tkws
