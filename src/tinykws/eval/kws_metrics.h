// What a keyword spotter is judged by, on clips with known truth: how many keyword clips it
// misses and how many clips that hold no keyword (other words, background) it takes for one,
// at the argmax and as a curve over a probability threshold. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tkws {

// How a clip counts. Values index arrays; keep them dense.
enum class ClipGroup : uint8_t {
  kKeyword = 0,     // a keyword: right when given its own class
  kUnknown = 1,     // a word the model was trained to call `_unknown_`: right when no keyword
  kHeldOut = 2,     // a word the model never trained on: right when given no keyword
  kBackground = 3,  // a background window: right when given no keyword
};
inline constexpr int kClipGroups = 4;
const char* clip_group_name(ClipGroup g);  // "keyword", "unknown", "held_out", "background"

// 1 when class c of a model with these flags is a keyword (empty flags: every class is).
inline bool is_keyword_class(const std::vector<uint8_t>& keyword_flags, int c) {
  return keyword_flags.empty() || keyword_flags[static_cast<size_t>(c)] != 0;
}

// Selection score of argmax predictions: the mean, over the groups present, of each group's
// rate of right answers (keywords: their own class; other groups: any class that is not a
// keyword). On keyword clips only it is plain accuracy.
double kws_selection_score(const std::vector<int>& predicted, const std::vector<int64_t>& truth,
                           const std::vector<uint8_t>& groups,
                           const std::vector<uint8_t>& keyword_flags);

struct ScoredClip {
  std::string name;  // e.g. "left/abc_nohash_0.wav" or "background window 3"
  std::string word;  // the data's label ("" for background windows)
  int truth = -1;    // the class it must get; -1: a foreign clip of a model with no _unknown_
  ClipGroup group = ClipGroup::kKeyword;
  std::vector<float> probs;  // the model's class probabilities
};

// One point of the threshold curve. A clip fires at threshold t as the streaming detector
// decides: its most probable keyword class k fires when probs[k] >= t, even when a non-keyword
// class (`_unknown_`, `_silence_`) is more probable. Above 0.5 that is the argmax decision with
// a threshold; below it, keywords that lost to `_unknown_` are taken too (fewer misses, more
// false accepts).
struct ThresholdPoint {
  double threshold = 0;
  double miss_rate = 0;      // keyword clips whose top keyword is not theirs or is < threshold
  double fa_rate = 0;        // non-keyword clips whose top keyword is >= threshold
  double fa_words = 0;       // ... of the other words' clips (unknown + held out)
  double fa_held_out = 0;    // ... of the held-out words' clips
  double fa_background = 0;  // ... of the background windows
};

struct KwsMetrics {
  std::vector<std::string> labels;
  std::vector<uint8_t> keyword_flags;
  int group_clips[kClipGroups] = {0, 0, 0, 0};
  int group_fa[kClipGroups] = {0, 0, 0, 0};  // non-keyword groups: clips given a keyword
  int keyword_hits = 0;                      // keyword clips given their own class
  double miss_rate = 0, fa_rate = 0;         // argmax decisions
  double group_fa_rate(ClipGroup g) const;   // 0 when the group is empty
  // Per class (argmax; clips with truth >= 0): precision and recall; -1 when undefined.
  std::vector<double> precision, recall;
  struct Word {
    std::string word;
    ClipGroup group;
    int clips = 0, fa = 0;  // non-keyword words: clips given a keyword
  };
  std::vector<Word> words;            // every non-keyword word, sorted by name
  std::vector<ThresholdPoint> curve;  // thresholds 0.05, 0.1, ..., 0.95, 0.99, 0.999
};

// The argmax metrics (a clip fires keyword k when k is its most probable class and a keyword)
// and the threshold curve (ThresholdPoint's rule).
KwsMetrics kws_metrics(const std::vector<ScoredClip>& clips, const std::vector<std::string>& labels,
                       const std::vector<uint8_t>& keyword_flags);

nlohmann::json to_json(const KwsMetrics& m);
std::string to_text(const KwsMetrics& m);

}  // namespace tkws
