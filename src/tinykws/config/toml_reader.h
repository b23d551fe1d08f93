// The one TOML reader of tinykws (toml++): config files (config.cpp) and search spaces
// (search/space.cpp) parse their text and read their tables through it, so a bad value gives the
// same kind of message everywhere: "<file>: <table>.<key> <problem>", e.g.
// "run.toml: train.batch_size must be an integer", "space.toml: skip_invalid must be true or
// false" (top-level keys have no table prefix).
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

namespace tkws {

// Parses TOML text. InputError "<source>:<line>:<column>: TOML syntax error: <description>".
toml::table parse_toml(const std::string& text, const std::string& source);

// Reads one TOML table, remembering which keys were used so that leftovers (typos) are
// reported by finish(). `where` is the dotted path used in messages ("train",
// "model.layers[2]"; "" for the top level). A read leaves `out` as it is when the key is
// absent and throws InputError (common/error.h) when the value has the wrong type or range.
class TableReader {
 public:
  TableReader(const toml::table& t, std::string source, std::string where)
      : t_(t), source_(std::move(source)), where_(std::move(where)) {}

  // InputError "<source>: <where>.<key> <msg>" (no "<where>." at the top level, no key when
  // `key` is empty).
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const;

  // The node at `key` (nullptr if absent), marked as used.
  const toml::node* get(const std::string& key) {
    used_.insert(key);
    return t_.get(key);
  }
  bool has(const std::string& key) const { return t_.contains(key); }

  void read(const std::string& key, double& out);
  void read(const std::string& key, float& out);
  void read(const std::string& key, int& out);       // within int32
  void read(const std::string& key, uint64_t& out);  // within [0, 2^31)
  void read(const std::string& key, bool& out);
  void read(const std::string& key, std::string& out);
  void read(const std::string& key, std::vector<std::string>& out);
  // `kernel = 3` or `kernel = [10, 4]` (height, width).
  void read_pair(const std::string& key, int& h, int& w);
  // A string naming one of `names`; otherwise "= "x" is not one of: a, b, c".
  template <class E>
  void read_enum(const std::string& key, E& out, const std::map<std::string, E>& names) {
    std::string s;
    if (!get(key)) return;
    read(key, s);
    auto it = names.find(s);
    if (it == names.end()) {
      std::string allowed;
      for (auto& [k, v] : names) allowed += (allowed.empty() ? "" : ", ") + k;
      fail(key, "= \"" + s + "\" is not one of: " + allowed);
    }
    out = it->second;
  }

  // InputError "<where>.<key> is not a known setting" for the first key never read.
  void finish() const;

 private:
  const toml::table& t_;
  std::string source_, where_;
  std::set<std::string> used_;
};

}  // namespace tkws
