#include "tinykws/search/space.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>
#include <unordered_map>
#include <variant>

#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/config/config.h"
#include "tinykws/config/toml_reader.h"
#include "tinykws/eval/constraints.h"

namespace tkws::search {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Grids larger than this are almost certainly a mistake; random mode samples them instead.
constexpr uint64_t kMaxGrid = 1000000;

json toml_to_json(const toml::node& n, const std::string& where) {
  if (auto v = n.as_integer()) return v->get();
  if (auto v = n.as_floating_point()) return v->get();
  if (auto v = n.as_boolean()) return v->get();
  if (auto v = n.as_string()) return v->get();
  if (auto a = n.as_array()) {
    json out = json::array();
    for (auto& e : *a) out.push_back(toml_to_json(e, where));
    return out;
  }
  if (auto t = n.as_table()) {
    json out = json::object();
    for (auto& [k, v] : *t) out[std::string(k.str())] = toml_to_json(v, where);
    return out;
  }
  throw InputError(where + ": dates and times are not config values");
}

// The TOML counterpart of a JSON value (integers stay integers). Recursion happens at run
// time through this one function, so the visitors below have six instantiations each.
using TomlValue = std::variant<int64_t, double, bool, std::string, toml::array, toml::table>;

TomlValue to_toml(const json& v) {
  switch (v.type()) {
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return v.get<int64_t>();
    case json::value_t::number_float:
      return v.get<double>();
    case json::value_t::boolean:
      return v.get<bool>();
    case json::value_t::string:
      return v.get<std::string>();
    case json::value_t::array: {
      toml::array a;
      for (auto& e : v) std::visit([&](auto&& x) { a.push_back(std::move(x)); }, to_toml(e));
      return a;
    }
    case json::value_t::object: {
      toml::table t;
      for (auto& item : v.items()) {
        const std::string k = item.key();  // not a structured binding: clang 14 cannot capture one
        std::visit([&](auto&& x) { t.insert_or_assign(k, std::move(x)); }, to_toml(item.value()));
      }
      return t;
    }
    default:
      throw InputError("a search value must be a number, string, boolean, array or table");
  }
}

struct Segment {
  std::string key;
  std::vector<size_t> index;  // "[i]" suffixes in order
};

std::vector<Segment> split_path(const std::string& path, const std::string& source) {
  auto bad = [&](const std::string& why) -> InputError {
    return InputError(source + ": \"" + path + "\" is not a config path (" + why +
                      "); write e.g. \"frontend.num_mel_bins\" or \"model.layers[0].filters\"");
  };
  std::vector<Segment> out;
  size_t i = 0;
  while (i <= path.size()) {
    Segment s;
    size_t j = i;
    while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
    s.key = path.substr(i, j - i);
    if (s.key.empty()) throw bad("empty name");
    while (j < path.size() && path[j] == '[') {
      size_t close = path.find(']', j);
      if (close == std::string::npos || close == j + 1) throw bad("bad index");
      std::string num = path.substr(j + 1, close - j - 1);
      size_t idx = 0;  // digits only, and it must fit (std::stoul threw out_of_range here)
      const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), idx);
      if (num.find_first_not_of("0123456789") != std::string::npos || ec != std::errc() ||
          end != num.data() + num.size())
        throw bad("bad index");
      s.index.push_back(idx);
      j = close + 1;
    }
    out.push_back(std::move(s));
    if (j == path.size()) break;
    if (path[j] != '.') throw bad("unexpected '" + std::string(1, path[j]) + "'");
    i = j + 1;
    if (i == path.size()) throw bad("ends with '.'");
  }
  return out;
}

void set_path(toml::table& root, const std::string& path, const json& value,
              const std::string& source) {
  std::vector<Segment> segs = split_path(path, source);
  auto fail = [&](const std::string& what) {
    throw InputError(source + ": cannot set \"" + path + "\": " + what);
  };
  toml::table* table = &root;
  std::string walked;
  for (size_t s = 0; s < segs.size(); ++s) {
    const Segment& seg = segs[s];
    if (!walked.empty()) walked += '.';
    walked += seg.key;
    bool last = s + 1 == segs.size();
    if (last && seg.index.empty()) {
      std::visit([&](auto&& x) { table->insert_or_assign(seg.key, std::move(x)); }, to_toml(value));
      return;
    }
    toml::node* node = table->get(seg.key);
    if (!node) {
      if (!seg.index.empty()) fail(walked + " is not in the base config");
      node = table->insert(seg.key, toml::table{}).first->second.as_table();
    }
    for (size_t k = 0; k < seg.index.size(); ++k) {
      toml::array* arr = node->as_array();
      if (!arr) fail(walked + " is not an array");
      size_t idx = seg.index[k];
      if (idx >= arr->size())
        fail(walked + " has " + std::to_string(arr->size()) + " elements; [" + std::to_string(idx) +
             "] does not exist");
      walked.append("[").append(std::to_string(idx)).append("]");
      if (last && k + 1 == seg.index.size()) {
        std::visit([&](auto&& x) { arr->replace(arr->cbegin() + idx, std::move(x)); },
                   to_toml(value));
        return;
      }
      node = arr->get(idx);
    }
    table = node->as_table();
    if (!table) fail(walked + " is not a table");
  }
}

// Flattens [axes] (quoted dotted keys, unquoted dotted keys and sub-tables all allowed).
void collect_axes(const toml::table& t, const std::string& prefix, const std::string& source,
                  std::vector<std::pair<toml::source_position, Axis>>& out) {
  for (auto& [k, v] : t) {
    std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (auto* sub = v.as_table()) {
      collect_axes(*sub, path, source, out);
      continue;
    }
    auto* arr = v.as_array();
    if (!arr)
      throw InputError(source + ": axis \"" + path +
                       "\" must be an array of values, e.g. [16, 40] (one value: [16])");
    if (arr->empty())
      throw InputError(source + ": axis \"" + path + "\" is empty; give it at least one value");
    Axis a;
    a.path = path;
    a.values = toml_to_json(*arr, source + ": axis \"" + path + "\"");
    out.push_back({v.source().begin, std::move(a)});
  }
}

std::string describe(const json& v) {
  return v.dump();
}

}  // namespace

uint64_t SearchSpace::grid_size() const {
  uint64_t n = 1;
  for (auto& a : axes) {
    uint64_t k = a.values.size();
    if (n > std::numeric_limits<uint64_t>::max() / k) return std::numeric_limits<uint64_t>::max();
    n *= k;
  }
  return n;
}

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;  // FNV 64 prime
  }
  return h;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string trial_id(const json& params) {
  return hex64(fnv1a64(params.dump()));
}

std::string apply_params(const std::string& base_text, const json& params,
                         const std::string& source) {
  toml::table root = parse_toml(base_text, source);
  for (auto& [path, v] : params.items()) set_path(root, path, v, source);
  std::ostringstream o;
  o << root << "\n";
  return o.str();
}

SearchSpace parse_space(const std::string& text, const std::string& source,
                        const std::string& base_dir) {
  const toml::table root = parse_toml(text, source);
  TableReader r(root, source, "");  // top-level keys: messages "<source>: <key> <problem>"
  SearchSpace sp;
  sp.source = source;
  static const char* kKeys[] = {"base",        "mode",         "samples", "seed",
                                "constraints", "skip_invalid", "axes"};
  for (auto& [k, v] : root) {
    if (std::find(std::begin(kKeys), std::end(kKeys), k.str()) == std::end(kKeys))
      r.fail("", "unknown key \"" + std::string(k.str()) +
                     "\" (known: base, mode, samples, seed, constraints, skip_invalid, [axes])");
  }
  std::string base;
  if (const toml::node* n = r.get("base")) base = n->value_or(std::string());
  if (base.empty()) r.fail("", "base = \"CONFIG.toml\" (the config the axes edit) is required");
  fs::path bp = fs::path(base).is_absolute() ? fs::path(base) : fs::path(base_dir) / base;
  sp.base_path = bp.lexically_normal().string();
  if (!fs::is_regular_file(sp.base_path))
    throw InputError(source + ": base config " + sp.base_path + " cannot be read");
  sp.base_text = resolve_config_text(sp.base_path);  // its own bases merged

  if (const toml::node* n = r.get("mode")) {
    const std::optional<std::string> mode = n->value<std::string>();
    if (!mode) r.fail("mode", "must be \"grid\" or \"random\"");
    if (*mode == "random")
      sp.mode = SpaceMode::kRandom;
    else if (*mode != "grid")
      r.fail("mode", "= \"" + *mode + "\" must be \"grid\" or \"random\"");
  }
  if (const toml::node* n = r.get("samples")) {
    if (!n->is_integer() || *n->value<int64_t>() < 1)
      r.fail("samples", "must be a positive integer");
    if (sp.mode != SpaceMode::kRandom) r.fail("samples", "applies to mode = \"random\" only");
    sp.samples = *n->value<int64_t>();
  } else if (sp.mode == SpaceMode::kRandom) {
    r.fail("mode", "= \"random\" needs samples = N");
  }
  if (const toml::node* n = r.get("seed")) {
    if (!n->is_integer() || *n->value<int64_t>() < 0)
      r.fail("seed", "must be a non-negative integer");
    sp.seed = static_cast<uint64_t>(*n->value<int64_t>());
  }
  if (const toml::node* n = r.get("constraints")) {
    if (!n->is_string())
      r.fail("constraints", "must be a string, e.g. \"accuracy>0.99,size<50kB\"");
    sp.constraints = *n->value<std::string>();
    try {
      parse_constraints(sp.constraints);
    } catch (const InputError& e) {
      r.fail("", std::string("constraints: ") + e.what());
    }
  }
  if (const toml::node* n = r.get("skip_invalid")) {
    if (!n->is_boolean()) r.fail("skip_invalid", "must be true or false");  // not 0 / 1 either
    sp.skip_invalid = *n->value<bool>();
  }
  if (const toml::node* n = r.get("axes")) {
    auto* t = n->as_table();
    if (!t) r.fail("axes", "must be a table: [axes]");
    std::vector<std::pair<toml::source_position, Axis>> found;
    collect_axes(*t, "", source, found);
    std::stable_sort(found.begin(), found.end(), [](auto& a, auto& b) {
      return a.first.line != b.first.line ? a.first.line < b.first.line
                                          : a.first.column < b.first.column;
    });
    for (auto& [pos, a] : found) sp.axes.push_back(std::move(a));
  }
  return sp;
}

SearchSpace load_space(const std::string& path) {
  std::string text;
  try {
    text = read_text_file(path);
  } catch (const std::exception&) {
    throw InputError(path + ": cannot open search space file");
  }
  return parse_space(text, path, fs::path(path).parent_path().string());
}

std::vector<Trial> expand_trials(const SearchSpace& sp) {
  // Each axis on its own: an axis none of whose values the base config accepts is wrong in
  // itself (unknown field, wrong type), whatever the other axes hold.
  for (auto& a : sp.axes) {
    std::string first_error;
    bool any_ok = false;
    for (auto& v : a.values) {
      std::string src = sp.source + " [" + a.path + " = " + describe(v) + "]";
      try {
        parse_config(apply_params(sp.base_text, json{{a.path, v}}, src), src);
        any_ok = true;
        break;
      } catch (const InputError& e) {
        if (first_error.empty()) first_error = e.what();
      }
    }
    if (!any_ok)
      throw InputError(sp.source + ": axis \"" + a.path + "\" is not usable: " + first_error);
  }

  const uint64_t total = sp.grid_size();
  if (sp.mode == SpaceMode::kGrid && total > kMaxGrid)
    throw InputError(sp.source + ": the grid has " +
                     (total == std::numeric_limits<uint64_t>::max() ? std::string("too many")
                                                                    : std::to_string(total)) +
                     " trials (limit " + std::to_string(kMaxGrid) +
                     "); use mode = \"random\" with samples = N");
  if (total >= (uint64_t{1} << 62))
    throw InputError(sp.source + ": the space is too large to index (2^62 points or more)");

  std::vector<uint64_t> points;
  if (sp.mode == SpaceMode::kGrid) {
    for (uint64_t k = 0; k < total; ++k) points.push_back(k);
  } else {
    // Sparse Fisher-Yates over [0, total): distinct points, deterministic for the seed
    // (std::mt19937_64's output sequence is fixed by the standard).
    std::mt19937_64 rng(sp.seed);
    std::unordered_map<uint64_t, uint64_t> moved;
    auto at = [&](uint64_t i) {
      auto it = moved.find(i);
      return it == moved.end() ? i : it->second;
    };
    uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(sp.samples), total);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t j = i + rng() % (total - i);
      uint64_t vi = at(i), vj = at(j);
      moved[j] = vi;
      moved[i] = vj;
      points.push_back(vj);
    }
  }

  std::vector<Trial> trials;
  trials.reserve(points.size());
  for (uint64_t p : points) {
    Trial t;
    t.index = static_cast<int64_t>(trials.size());
    t.params = json::object();
    uint64_t rest = p;  // mixed radix, last axis fastest
    for (size_t a = sp.axes.size(); a-- > 0;) {
      const json& vals = sp.axes[a].values;
      t.params[sp.axes[a].path] = vals[rest % vals.size()];
      rest /= vals.size();
    }
    t.id = trial_id(t.params);
    std::string src = sp.source + " trial " + t.id;
    try {
      t.config_text = apply_params(sp.base_text, t.params, src);
      parse_config(t.config_text, src);
    } catch (const InputError& e) {
      if (!sp.skip_invalid)
        throw InputError(sp.source + ": trial " + std::to_string(t.index) + " " + t.params.dump() +
                         " is not a valid config: " + e.what() +
                         " (skip_invalid = true records such combinations as invalid)");
      t.invalid = e.what();
    }
    trials.push_back(std::move(t));
  }
  return trials;
}

}  // namespace tkws::search
