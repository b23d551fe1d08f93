// Dataset scanning: layout detection, labels, splits (list files, speaker hash, course folders).
#include "tinykws/audio/dataset.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "tinykws/common/error.h"
#include "tinykws/common/utf8.h"

namespace tkws {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCourseDirs[3] = {"msc-train", "msc-val", "msc-test"};

bool is_wav_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".wav";
}

bool is_hidden(const std::string& name) {
  return !name.empty() && name[0] == '.';
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// Entries of `dir`, sorted by name; filesystem errors become InputError naming the folder.
std::vector<fs::directory_entry> list_dir(const fs::path& dir) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) out.push_back(*it);
  if (ec) throw InputError("'" + dir.string() + "': cannot list folder (" + ec.message() + ")");
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  return out;
}

bool is_dir(const fs::directory_entry& e) {
  std::error_code ec;
  return e.is_directory(ec);
}

bool is_file(const fs::directory_entry& e) {
  std::error_code ec;
  return e.is_regular_file(ec);
}

// A clip before label selection: label by name.
struct RawClip {
  std::string rel;
  std::string label;
  Split split = Split::kTrain;
};

// A warning tied to a label ("" = about the whole dataset); label warnings are kept only when
// that label is selected.
struct Warning {
  std::string label;
  std::string text;
};

struct Scan {
  std::string layout, split_rule;
  std::vector<RawClip> clips;
  std::vector<Warning> warnings;
};

// Reads a Speech Commands list file: one "label/file.wav" per line. Returns normalised paths.
std::vector<std::string> read_list(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError("'" + file.string() + "': cannot read list file");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) continue;
    const auto e = line.find_last_not_of(" \t\r\n");
    out.push_back(fs::path(line.substr(b, e - b + 1)).lexically_normal().generic_string());
  }
  return out;
}

std::string first_component(const std::string& rel) {
  return rel.substr(0, rel.find('/'));
}

// Layout 1: root/<label>/*.wav, splits from list files or the speaker hash.
Scan scan_folders(const fs::path& root, const std::string& root_name) {
  Scan s;
  s.layout = "folders";
  int root_wavs = 0;
  std::set<std::string> labels_on_disk;
  for (const auto& e : list_dir(root)) {
    const std::string name = e.path().filename().string();
    if (is_file(e) && is_wav_name(e.path()) && !is_hidden(name)) ++root_wavs;
    if (!is_dir(e) || is_hidden(name) || name[0] == '_') continue;
    int wavs = 0, other = 0, subdirs = 0;
    for (const auto& f : list_dir(e.path())) {
      const std::string fname = f.path().filename().string();
      if (is_hidden(fname)) continue;
      if (is_dir(f)) {
        ++subdirs;
      } else if (is_wav_name(f.path())) {
        s.clips.push_back({name + "/" + fname, name, Split::kTrain});
        ++wavs;
      } else {
        ++other;
      }
    }
    if (wavs == 0) {
      s.warnings.push_back({"", "folder '" + name + "/' holds no .wav files; not a label"});
      continue;
    }
    if (!is_utf8_text(name))
      throw InputError((root / name).string() +
                       ": a label folder's name must be UTF-8 text without control characters "
                       "(it becomes a label in the model file and its exports)");
    labels_on_disk.insert(name);
    if (other > 0) {
      s.warnings.push_back(
          {name, std::to_string(other) + " non-.wav file(s) in '" + name + "/' skipped"});
    }
    if (subdirs > 0) {
      s.warnings.push_back(
          {name, std::to_string(subdirs) + " subfolder(s) in '" + name + "/' not scanned"});
    }
  }
  if (labels_on_disk.empty()) {
    if (root_wavs > 0) {
      throw InputError("dataset folder '" + root_name + "' holds .wav files but no label folders " +
                       "(expected " + root_name + "/<label>/*.wav or " + root_name +
                       "/msc-train/<label>_<id>.wav)");
    }
    throw InputError("dataset folder '" + root_name + "' holds no .wav files");
  }
  if (root_wavs > 0) {
    s.warnings.push_back({"", std::to_string(root_wavs) + " .wav file(s) directly in '" +
                                  root_name + "' are in no label folder; skipped"});
  }

  const fs::path val_list = root / "validation_list.txt";
  const fs::path test_list = root / "testing_list.txt";
  std::error_code ec;
  const bool have_val = fs::exists(val_list, ec), have_test = fs::exists(test_list, ec);
  if (!have_val && !have_test) {
    s.split_rule = "speaker-hash";
    for (auto& c : s.clips) c.split = speaker_hash_split(c.rel);
    return s;
  }

  s.split_rule = "lists";
  std::map<std::string, Split> listed;  // rel -> split
  std::set<std::string> on_disk;
  for (const auto& c : s.clips) on_disk.insert(c.rel);
  // Test list second: a clip listed in both ends up in test (never select or train on it).
  const std::pair<fs::path, Split> lists[2] = {{val_list, Split::kVal}, {test_list, Split::kTest}};
  for (const auto& [file, split] : lists) {
    if (!fs::exists(file, ec)) continue;
    const std::string fname = file.filename().string();
    std::map<std::string, std::vector<std::string>> missing;  // label -> entries
    int unknown_label = 0, both = 0;
    for (const auto& rel : read_list(file)) {
      const std::string label = first_component(rel);
      if (!labels_on_disk.count(label)) {
        ++unknown_label;
        continue;
      }
      if (!on_disk.count(rel)) {
        missing[label].push_back(rel);
        continue;
      }
      auto [it, inserted] = listed.emplace(rel, split);
      if (!inserted && it->second != split) {
        ++both;
        it->second = Split::kTest;
      }
    }
    for (const auto& [label, entries] : missing) {
      s.warnings.push_back({label, fname + ": " + std::to_string(entries.size()) + " '" + label +
                                       "' entries not found on disk (first: " + entries[0] + ")"});
    }
    if (unknown_label > 0) {
      s.warnings.push_back({"", fname + ": " + std::to_string(unknown_label) +
                                    " entries name labels with no folder here; ignored"});
    }
    if (both > 0) {
      s.warnings.push_back({"", fname + ": " + std::to_string(both) +
                                    " clips also listed in the other list; kept as test"});
    }
  }
  for (auto& c : s.clips) {
    auto it = listed.find(c.rel);
    c.split = it == listed.end() ? Split::kTrain : it->second;
  }
  return s;
}

// Layout 2: root/msc-{train,val,test}/<label>_<id>.wav.
Scan scan_course(const fs::path& root, const std::string& root_name) {
  Scan s;
  s.layout = "course";
  s.split_rule = "course-folders";
  for (int k = 0; k < 3; ++k) {
    const fs::path dir = root / kCourseDirs[k];
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      s.warnings.push_back({"", std::string("'") + kCourseDirs[k] + "/' missing: no " +
                                    split_name(Split(k)) + " clips"});
      continue;
    }
    int other = 0;
    for (const auto& f : list_dir(dir)) {
      const std::string fname = f.path().filename().string();
      if (is_hidden(fname)) continue;
      if (is_dir(f) || !is_wav_name(f.path())) {
        ++other;
        continue;
      }
      const auto us = fname.find('_');
      if (us == std::string::npos || us == 0) {
        throw InputError((dir / fname).string() +
                         ": course layout file names must be <label>_<id>.wav");
      }
      if (!is_utf8_text(fname.substr(0, us)))
        throw InputError((dir / fname).string() +
                         ": the label part of the name must be UTF-8 text without control "
                         "characters");
      s.clips.push_back({std::string(kCourseDirs[k]) + "/" + fname, fname.substr(0, us), Split(k)});
    }
    if (other > 0) {
      s.warnings.push_back(
          {"", std::to_string(other) + " non-.wav entries in '" + kCourseDirs[k] + "/' skipped"});
    }
  }
  if (s.clips.empty()) throw InputError("dataset folder '" + root_name + "' holds no .wav files");
  return s;
}

}  // namespace

const char* split_name(Split s) {
  switch (s) {
    case Split::kTrain:
      return "train";
    case Split::kVal:
      return "val";
    case Split::kTest:
      return "test";
  }
  return "?";
}

Split parse_split(const std::string& s) {
  if (s == "train" || s == "training") return Split::kTrain;
  if (s == "val" || s == "validation") return Split::kVal;
  if (s == "test" || s == "testing") return Split::kTest;
  throw InputError("unknown split '" + s + "' (expected train, val or test)");
}

double speaker_hash_percent(const std::string& filename) {
  // Speech Commands README which_set(): hash_name = re.sub(r'_nohash_.*$', '', basename).
  std::string name = fs::path(filename).filename().string();
  if (const auto pos = name.find("_nohash_"); pos != std::string::npos) name.resize(pos);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(name.data(), name.size(), md, &md_len, EVP_sha1(), nullptr) != 1 || md_len != 20) {
    throw std::runtime_error("speaker_hash_percent: OpenSSL SHA-1 failed");
  }
  // int(hexdigest, 16) % 2^27: the low 27 bits of the big-endian 160-bit digest, i.e. of its
  // last four bytes.
  const uint32_t low =
      (uint32_t(md[16]) << 24 | uint32_t(md[17]) << 16 | uint32_t(md[18]) << 8 | uint32_t(md[19])) &
      ((1u << 27) - 1);
  constexpr double kMaxNumWavsPerClass = 134217727.0;  // 2^27 - 1
  return static_cast<double>(low) * (100.0 / kMaxNumWavsPerClass);
}

Split speaker_hash_split(const std::string& filename, double val_percent, double test_percent) {
  if (val_percent < 0 || test_percent < 0 || val_percent + test_percent > 100) {
    throw std::invalid_argument("speaker_hash_split: bad percentages");
  }
  const double p = speaker_hash_percent(filename);
  if (p < val_percent) return Split::kVal;
  if (p < test_percent + val_percent) return Split::kTest;
  return Split::kTrain;
}

std::vector<const ClipRef*> Dataset::select(Split s) const {
  std::vector<const ClipRef*> out;
  for (const auto& c : clips) {
    if (c.split == s) out.push_back(&c);
  }
  return out;
}

std::vector<std::array<int, 3>> Dataset::counts() const {
  std::vector<std::array<int, 3>> out(labels.size(), {0, 0, 0});
  for (const auto& c : clips) {
    if (c.label >= 0 && size_t(c.label) < labels.size()) ++out[c.label][int(c.split)];
  }
  return out;
}

std::string Dataset::summary() const {
  std::ostringstream o;
  o << "dataset '" << root << "': layout " << layout << ", split rule " << split_rule << ", "
    << clips.size() << " clips, " << labels.size() << " labels\n";
  size_t w = 5;  // "total"
  for (const auto& l : labels) w = std::max(w, l.size());
  auto row = [&](const std::string& name, const std::array<int, 3>& c) {
    o << "  " << name << std::string(w - name.size(), ' ');
    for (int v : {c[0], c[1], c[2], c[0] + c[1] + c[2]}) {
      const std::string t = std::to_string(v);
      o << std::string(t.size() < 7 ? 7 - t.size() : 1, ' ') << t;
    }
    o << "\n";
  };
  o << "  " << std::string(w, ' ') << "  train    val   test  total\n";
  const auto cnt = counts();
  std::array<int, 3> total{0, 0, 0};
  for (size_t i = 0; i < labels.size(); ++i) {
    row(labels[i], cnt[i]);
    for (int k = 0; k < 3; ++k) total[k] += cnt[i][k];
  }
  row("total", total);
  if (!warnings.empty()) {
    o << "warnings:\n";
    for (const auto& x : warnings) o << "  - " << x << "\n";
  }
  return o.str();
}

namespace {

// A folder named like this holds background recordings (Speech Commands' `_background_noise_`).
constexpr const char* kBackgroundDir = "_background_noise_";

// Speaker id of a Speech Commands clip name (the part before "_nohash_"), "" for other names.
std::string speaker_of(const std::string& rel) {
  const std::string name = fs::path(rel).filename().string();
  const auto pos = name.find("_nohash_");
  return pos == std::string::npos ? "" : name.substr(0, pos);
}

struct RootScan {
  std::string root;
  Scan scan;
  std::vector<std::string> background;  // wav files of root/_background_noise_, sorted
};

RootScan scan_root(const std::string& root) {
  const fs::path r(root);
  std::error_code ec;
  const fs::file_status st = fs::status(r, ec);
  if (!fs::exists(st)) throw InputError("dataset folder '" + root + "' does not exist");
  if (!fs::is_directory(st)) throw InputError("dataset path '" + root + "' is not a folder");
  RootScan rs;
  rs.root = root;
  bool course = false;
  for (const char* d : kCourseDirs) course = course || fs::is_directory(r / d, ec);
  const fs::path bg = r / kBackgroundDir;
  if (fs::is_directory(bg, ec)) {
    for (const auto& f : list_dir(bg))
      if (is_file(f) && is_wav_name(f.path()) && !is_hidden(f.path().filename().string()))
        rs.background.push_back(f.path().string());
    if (rs.background.empty())
      rs.scan.warnings.push_back({"", "'" + bg.string() + "' holds no .wav files"});
  }
  // A folder holding only background recordings is a background source, not a dataset.
  try {
    Scan s = course ? scan_course(r, root) : scan_folders(r, root);
    s.warnings.insert(s.warnings.begin(), rs.scan.warnings.begin(), rs.scan.warnings.end());
    rs.scan = std::move(s);
  } catch (const InputError&) {
    if (rs.background.empty()) throw;
    rs.scan.layout = "background";
    rs.scan.split_rule = "none";
  }
  return rs;
}

}  // namespace

Dataset scan_dataset(const std::string& root, const std::vector<std::string>& labels) {
  return scan_datasets({root}, labels);
}

Dataset scan_datasets(const std::vector<std::string>& roots,
                      const std::vector<std::string>& labels) {
  if (roots.empty()) throw InputError("no dataset folder given");
  {
    std::set<std::string> seen;
    for (const auto& l : labels) {
      if (l.empty()) throw InputError("empty label name in the label list");
      if (!seen.insert(l).second) throw InputError("label '" + l + "' listed twice");
    }
  }
  std::vector<RootScan> scans;
  std::set<std::string> present;
  for (const auto& root : roots) {
    for (const auto& prev : scans)
      if (fs::weakly_canonical(prev.root) == fs::weakly_canonical(root))
        throw InputError("dataset folder '" + root + "' given twice");
    scans.push_back(scan_root(root));
    for (const auto& c : scans.back().scan.clips) present.insert(c.label);
  }
  std::string all_roots;  // 'a' or 'a', 'b' for messages
  for (const auto& r : roots) all_roots += (all_roots.empty() ? "'" : ", '") + r + "'";
  const std::string folders =
      (roots.size() == 1 ? "dataset folder " : "dataset folders ") + all_roots;
  const std::string hold = roots.size() == 1 ? " holds" : " hold";
  if (present.empty()) throw InputError(folders + hold + " no labelled clips");

  Dataset ds;
  ds.roots = roots;
  ds.root = join(roots, ", ");
  std::set<std::string> layouts, rules;
  for (const auto& rs : scans) {
    if (rs.scan.layout == "background") continue;
    layouts.insert(rs.scan.layout);
    rules.insert(rs.scan.split_rule);
  }
  ds.layout = join(std::vector<std::string>(layouts.begin(), layouts.end()), "+");
  ds.split_rule = join(std::vector<std::string>(rules.begin(), rules.end()), "+");
  if (labels.empty()) {
    ds.labels.assign(present.begin(), present.end());  // std::set: sorted
  } else {
    for (const auto& l : labels) {
      if (!present.count(l)) {
        throw InputError("label '" + l + "' not found in " + all_roots + " (labels present: " +
                         join(std::vector<std::string>(present.begin(), present.end()), ", ") +
                         ")");
      }
    }
    ds.labels = labels;
  }
  std::map<std::string, int> index;
  for (size_t i = 0; i < ds.labels.size(); ++i) index[ds.labels[i]] = int(i);

  // Merge: a clip (same rel path) or a speaker found in two folders must be in one split,
  // or the validation split would hold what training saw.
  std::map<std::string, std::pair<Split, std::string>> clip_split, speaker_split;
  for (const auto& rs : scans) {
    const fs::path r(rs.root);
    for (const auto& c : rs.scan.clips) {
      auto [it, fresh] = clip_split.emplace(c.rel, std::make_pair(c.split, rs.root));
      if (!fresh) {
        if (it->second.first != c.split)
          throw InputError("dataset folders '" + it->second.second + "' and '" + rs.root +
                           "' disagree on the split of '" + c.rel + "' (" +
                           split_name(it->second.first) + " vs " + split_name(c.split) + ")");
        ds.warnings.push_back("'" + c.rel + "' is in both '" + it->second.second + "' and '" +
                              rs.root + "'; the first is used");
        continue;
      }
      if (const std::string spk = speaker_of(c.rel); !spk.empty()) {
        auto [sit, sfresh] = speaker_split.emplace(spk, std::make_pair(c.split, rs.root));
        if (!sfresh && sit->second.first != c.split && sit->second.second != rs.root)
          throw InputError("dataset folders '" + sit->second.second + "' and '" + rs.root +
                           "' disagree on the split of speaker " + spk + " (" +
                           split_name(sit->second.first) + " vs " + split_name(c.split) +
                           ", e.g. '" + c.rel + "')");
      }
      auto li = index.find(c.label);
      if (li == index.end()) continue;  // label not selected by the caller
      ds.clips.push_back({(r / c.rel).string(), c.rel, li->second, c.split});
    }
    for (const auto& w : rs.scan.warnings) {
      if (w.label.empty() || index.count(w.label))
        ds.warnings.push_back(roots.size() > 1 ? rs.root + ": " + w.text : w.text);
    }
    ds.background.insert(ds.background.end(), rs.background.begin(), rs.background.end());
  }
  std::sort(ds.clips.begin(), ds.clips.end(),
            [](const ClipRef& a, const ClipRef& b) { return a.rel < b.rel; });
  if (ds.clips.empty()) throw InputError(folders + hold + " no .wav files");
  return ds;
}

}  // namespace tkws
