// Labelled clip datasets in the two layouts of DESIGN.md "Datasets", with their splits.
#pragma once
#include <array>
#include <string>
#include <vector>

namespace tkws {

enum class Split { kTrain = 0, kVal = 1, kTest = 2 };
const char* split_name(Split s);          // "train", "val", "test"
Split parse_split(const std::string& s);  // accepts train|val|validation|test; InputError else

struct ClipRef {
  std::string path;  // absolute or relative to the cwd, openable as is
  std::string rel;   // path relative to the dataset root, e.g. "up/0132a06d_nohash_2.wav"
  int label = -1;    // index into Dataset::labels
  Split split = Split::kTrain;
};

struct Dataset {
  std::string root;
  std::string layout;               // "folders" or "course"
  std::string split_rule;           // "lists", "speaker-hash" or "course-folders"
  std::vector<std::string> labels;  // index order
  std::vector<ClipRef> clips;       // sorted by rel path: deterministic order
  // Problems that did not stop the scan (list entries missing on disk, skipped non-WAV files,
  // empty label folders, ...). Also printed by summary(): nothing is dropped silently.
  std::vector<std::string> warnings;

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

}  // namespace tkws
