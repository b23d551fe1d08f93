// A search space (SPACE.toml): a base config and axes over any config field by dotted path,
// expanded into a deterministic list of trials, each a complete config text.
//
//   base = "../course-dscnn.toml"        # config TOML, relative to the space file
//   mode = "grid"                        # or "random" (then: samples = N, seed = S)
//   constraints = "accuracy>0.99,size<50kB,latency<40ms"   # optional feasibility filter
//   skip_invalid = false                 # true: invalid combinations are recorded, not fatal
//   [axes]
//   "frontend.features" = ["mfcc", "logmel"]
//   "frontend.num_mel_bins" = [16, 40]
//   "model.layers[0].filters" = [32, 64]  # array elements by [index]
//   "prune.final_sparsity" = [0.5, 0.7]   # a missing section ([prune]) is created
//
// Unquoted dotted keys (frontend.num_mel_bins = [...]) and sub-tables ([axes.frontend]) mean
// the same. Axes keep their order in the file; in grid mode the last axis varies fastest.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tkws::search {

struct Axis {
  std::string path;       // dotted config path, e.g. "frontend.num_mel_bins"
  nlohmann::json values;  // array of TOML values (integers stay integers, floats floats)
};

enum class SpaceMode { kGrid, kRandom };

struct SearchSpace {
  std::string source;     // the space file (for messages)
  std::string base_path;  // the base config, resolved
  std::string base_text;  // its TOML text
  SpaceMode mode = SpaceMode::kGrid;
  int64_t samples = 0;  // random mode: number of distinct trials drawn
  uint64_t seed = 0;    // random mode
  std::string constraints;
  bool skip_invalid = false;
  std::vector<Axis> axes;
  uint64_t grid_size() const;  // product of the axis sizes
};

// One point of the space. `params` maps each axis path to its value; `id` = trial_id(params).
struct Trial {
  int64_t index = 0;  // position in the deterministic trial list (sharding uses it)
  std::string id;
  nlohmann::json params;
  std::string config_text;  // base config with the params applied (TOML)
  std::string invalid;      // non-empty: the config error of this combination
};

// Parses a space; the base config is read from base_dir / base. InputError on a bad space:
// unknown key, empty or non-array axis, bad mode/samples, unreadable base config.
SearchSpace parse_space(const std::string& text, const std::string& source,
                        const std::string& base_dir);
SearchSpace load_space(const std::string& path);

// The trial list: grid = the cartesian product (last axis fastest); random = `samples` distinct
// points drawn without replacement (all of them when samples >= grid size), deterministic for
// a seed. Each trial's config is parsed with parse_config; an axis whose every value is
// rejected (an unknown field, a bad type) is an InputError naming it, and so is any other
// invalid combination unless skip_invalid (then Trial::invalid holds the message).
std::vector<Trial> expand_trials(const SearchSpace& space);

// `base_text` with each dotted path of `params` set (missing tables are created; an array
// index must exist). InputError for a path that cannot be applied.
std::string apply_params(const std::string& base_text, const nlohmann::json& params,
                         const std::string& source);

// Stable id of a parameter assignment: FNV-1a 64 of the canonical JSON (keys sorted), as 16
// lower-case hex digits. Independent of axis order, trial index and platform.
std::string trial_id(const nlohmann::json& params);
uint64_t fnv1a64(std::string_view bytes);
std::string hex64(uint64_t v);

}  // namespace tkws::search
