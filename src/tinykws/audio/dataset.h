// Labelled clip datasets in the two layouts of docs/architecture.md, with their splits.
#pragma once
#include <array>
#include <string>
#include <vector>

namespace tkws {

enum class Split { kTrain = 0, kVal = 1, kTest = 2 };

// Class names of a keyword model that are not words of the data (DESIGN: a model may add them;
// the model file marks them as non-keywords): any other word, and background without a word.
inline constexpr const char* kUnknownLabel = "_unknown_";
inline constexpr const char* kSilenceLabel = "_silence_";
const char* split_name(Split s);          // "train", "val", "test"
Split parse_split(const std::string& s);  // accepts train|val|validation|test; InputError else

struct ClipRef {
  std::string path;  // absolute or relative to the cwd, openable as is
  std::string rel;   // path relative to the dataset root, e.g. "up/0132a06d_nohash_2.wav"
  int label = -1;    // index into Dataset::labels
  Split split = Split::kTrain;
};

struct Dataset {
  std::string root;                 // the folder, or the folders joined with ", "
  std::vector<std::string> roots;   // every folder scanned, in the order given
  std::string layout;               // "folders" or "course"
  std::string split_rule;           // "lists", "speaker-hash" or "course-folders"
  std::vector<std::string> labels;  // index order
  std::vector<ClipRef> clips;       // sorted by rel path: deterministic order
  // Problems that did not stop the scan (list entries missing on disk, skipped non-WAV files,
  // empty label folders, ...). Also printed by summary(): nothing is dropped silently.
  std::vector<std::string> warnings;
  // Background recordings (the .wav files of every `_background_noise_` folder, in folder
  // order, sorted by name): the `_silence_` class, background augmentation and stream tests.
  std::vector<std::string> background;

  std::vector<const ClipRef*> select(Split s) const;
  // counts[split][label]
  std::vector<std::array<int, 3>> counts() const;  // indexed by label: {train, val, test}
  // Human-readable summary table: clips per split and label, layout, split rule.
  std::string summary() const;
};

// Speech Commands which_set(): SHA-1 of the file name's part before "_nohash_", mapped to
// [0, 100) as in the dataset README (MAX_NUM_WAVS_PER_CLASS = 2^27 - 1).
Split speaker_hash_split(const std::string& filename, double val_percent = 10.0,
                         double test_percent = 10.0);
// The percentage in [0, 100] that speaker_hash_split() compares (bit-identical to the Python
// reference: (int(sha1(name).hexdigest(), 16) % 2^27) * (100.0 / (2^27 - 1))). Only the base
// name of `filename` is used; without "_nohash_" the whole base name is hashed.
double speaker_hash_percent(const std::string& filename);

// Scans `root` and auto-detects the layout:
//  1. one folder per label (root/<label>/*.wav); splits from validation_list.txt /
//     testing_list.txt when either exists (unlisted clips are training), else speaker hash.
//  2. course layout: root/msc-train, root/msc-val, root/msc-test with <label>_<id>.wav.
// `labels`: when non-empty, only these labels are kept, in this order; a label with no clips
// is an InputError naming it and the labels that exist. When empty, all labels found, sorted.
// Folders starting with '_' (e.g. _background_noise_) are not labels.
// Throws InputError for a missing/empty root, no recognised layout, no clips.
Dataset scan_dataset(const std::string& root, const std::vector<std::string>& labels = {});

// Several folders merged by label (the same label may come from more than one folder). Each
// folder keeps its own split rule; a clip or a speaker (the name before "_nohash_") found in
// two folders with different splits is an InputError naming both folders. A folder holding
// only `_background_noise_` contributes its recordings. Rel paths stay relative to their own
// folder ("up/x.wav"); a rel path in two folders with the same split is used once (warning).
Dataset scan_datasets(const std::vector<std::string>& roots,
                      const std::vector<std::string>& labels = {});

}  // namespace tkws
