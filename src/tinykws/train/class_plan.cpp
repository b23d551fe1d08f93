#include "tinykws/train/class_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "tinykws/common/error.h"

namespace tkws {

ClassPlan plan_classes(const TrainConfig& t, const Dataset& ds) {
  ClassPlan p;
  std::map<std::string, int> word_index;
  for (size_t i = 0; i < ds.labels.size(); ++i) word_index[ds.labels[i]] = static_cast<int>(i);
  std::string present;
  for (const auto& w : ds.labels) present += (present.empty() ? "" : ", ") + w;
  auto need = [&](const std::string& w, const char* what) {
    if (!word_index.count(w))
      throw InputError(std::string(what) + " '" + w + "' has no folder in " + ds.root +
                       " (words present: " + present + ")");
  };
  const std::vector<std::string> keywords = t.labels.empty() ? ds.labels : t.labels;
  for (const auto& k : keywords) need(k, "keyword");
  for (const auto& w : t.unknown_words) need(w, "unknown word");
  for (const auto& w : t.held_out_words) need(w, "held-out word");
  std::set<std::string> kw(keywords.begin(), keywords.end()),
      held(t.held_out_words.begin(), t.held_out_words.end());

  p.labels = keywords;
  p.num_keywords = static_cast<int>(keywords.size());
  p.held_out_words = t.held_out_words;
  if (t.has_unknown()) {
    p.unknown_words = t.unknown_words;
    if (p.unknown_words.empty())
      for (const auto& w : ds.labels)
        if (!kw.count(w) && !held.count(w)) p.unknown_words.push_back(w);
    if (p.unknown_words.empty())
      throw InputError("train.unknown_percentage > 0 but " + ds.root +
                       " holds no word folder besides the keywords and held-out words");
    p.unknown = static_cast<int>(p.labels.size());
    p.labels.push_back(kUnknownLabel);
  }
  if (t.has_silence()) {
    p.silence = static_cast<int>(p.labels.size());
    p.labels.push_back(kSilenceLabel);
  }
  if ((t.has_silence() || t.augment.background_frequency > 0.0f) && ds.background.empty())
    throw InputError(ds.root +
                     ": _silence_ clips and background noise need background recordings (a "
                     "`_background_noise_` folder with .wav files) and there are none");
  if (p.unknown >= 0 || p.silence >= 0) {
    p.keyword_flags.assign(p.labels.size(), 0);
    std::fill(p.keyword_flags.begin(), p.keyword_flags.begin() + p.num_keywords, 1);
  }

  const size_t nw = ds.labels.size();
  p.train_class.assign(nw, -1);
  p.val_group.assign(nw, -1);
  p.val_class.assign(nw, -1);
  std::set<std::string> unk(p.unknown_words.begin(), p.unknown_words.end());
  for (size_t i = 0; i < nw; ++i) {
    const std::string& w = ds.labels[i];
    if (auto it = std::find(keywords.begin(), keywords.end(), w); it != keywords.end()) {
      p.train_class[i] = p.val_class[i] = static_cast<int>(it - keywords.begin());
      p.val_group[i] = static_cast<int>(ClipGroup::kKeyword);
    } else if (unk.count(w)) {
      p.train_class[i] = p.val_class[i] = p.unknown;
      p.val_group[i] = static_cast<int>(ClipGroup::kUnknown);
    } else if (held.count(w)) {
      p.val_class[i] = p.unknown;  // -1 without an _unknown_ class: counted, not in the loss
      p.val_group[i] = static_cast<int>(ClipGroup::kHeldOut);
    }
  }
  return p;
}

}  // namespace tkws
