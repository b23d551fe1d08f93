// The data phase of training: scan the data folders, decide the classes (class_plan.h), load
// the clips and the background recordings, compute the clean features whose statistics define
// the normalisation, and the fixed validation set. Torch-free.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tinykws/audio/background.h"
#include "tinykws/audio/dataset.h"
#include "tinykws/config/config.h"
#include "tinykws/train/class_plan.h"
#include "tinykws/train/epoch_set.h"
#include "tinykws/train/feature_set.h"

namespace tkws {

struct TrainData {
  Dataset ds;  // every word of the folders (scanned without a label filter)
  ClassPlan plan;
  // Training: the keyword clips (fixed), the unknown words' clips (drawn from per epoch).
  std::vector<std::vector<float>> words, unknown_pool;
  std::vector<int64_t> word_class;
  BackgroundNoise background;  // empty unless the config uses it or validation counts on it
  std::unique_ptr<EpochSet> set;
  // Validation: keyword clips, unknown and held-out words' clips, background windows.
  std::vector<std::vector<float>> val_clips;
  std::vector<int64_t> val_labels;  // the class each must get (other words: _unknown_)
  std::vector<uint8_t> val_groups;  // ClipGroup
  std::vector<std::string> val_names;
  std::vector<std::string> val_words;  // the data's label ("" for background windows)
  int frames = 0, coeffs = 0;
  size_t per = 0;               // frames * coeffs
  FeatureStats stats;           // empty when cfg.train.normalize is off
  std::vector<float> tr_clean;  // features of epoch 0's clips, no augmentation (normalised)
  std::vector<float> va_feats;  // validation features (normalised)
  bool per_epoch = false;       // the training features change every epoch

  int n_train() const { return set->size(); }
  int n_val() const { return static_cast<int>(val_clips.size()); }
  // Normalised training features of `epoch` (1-based): redrawn unknown / silence clips and
  // augmentation; tr_clean when nothing changes per epoch.
  std::vector<float> epoch_features(const Config& cfg, int epoch, int threads) const;
};

// Throws InputError for bad data (message names the folder / word / file).
std::unique_ptr<TrainData> prepare_train_data(const Config& cfg,
                                              const std::vector<std::string>& roots, int threads);

}  // namespace tkws
