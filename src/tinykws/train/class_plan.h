// Which classes a keyword model has and where each word of the data goes: the keywords,
// `_unknown_` (other words), `_silence_` (background windows), and words held out of training
// to measure false accepts on words the model never heard. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/audio/dataset.h"
#include "tinykws/config/config.h"
#include "tinykws/eval/kws_metrics.h"

namespace tkws {

struct ClassPlan {
  std::vector<std::string> labels;  // model classes, output order: keywords, _unknown_, _silence_
  std::vector<uint8_t> keyword_flags;  // one per class; empty when every class is a keyword
  int unknown = -1, silence = -1;      // class index, -1 when absent
  int num_keywords = 0;                // classes [0, num_keywords) are the keywords
  std::vector<std::string> unknown_words, held_out_words;  // resolved word lists
  // Per dataset label index (Dataset::labels): class to train it as (-1: not trained), and its
  // validation group (-1: not used at all).
  std::vector<int> train_class, val_group;
  // The class a validation clip of word `w` must get (keyword: its class; other: _unknown_).
  std::vector<int> val_class;
};

// Resolves the plan for a dataset scanned with every label (scan_datasets(roots) without a
// label filter). Throws InputError naming the word and the folders when a keyword, an unknown
// word or a held-out word has no folder, or when `_silence_` / background augmentation needs
// background recordings and the data has none.
ClassPlan plan_classes(const TrainConfig& t, const Dataset& ds);

}  // namespace tkws
