// TOML parsing and table reading shared by configs and search spaces (toml_reader.h).
#include "tinykws/config/toml_reader.h"

#include <sstream>

#include "tinykws/common/error.h"

namespace tkws {

toml::table parse_toml(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << source << ":" << e.source().begin.line << ":" << e.source().begin.column
      << ": TOML syntax error: " << e.description();
    throw InputError(o.str());
  }
}

void TableReader::fail(const std::string& key, const std::string& msg) const {
  std::string path = where_;
  if (!key.empty()) path += (path.empty() ? "" : ".") + key;
  throw InputError(source_ + ": " + path + (path.empty() ? "" : " ") + msg);
}

void TableReader::read(const std::string& key, double& out) {
  if (auto* n = get(key)) {
    if (auto v = n->value<double>())
      out = *v;
    else
      fail(key, "must be a number");
  }
}

void TableReader::read(const std::string& key, float& out) {
  double d = out;
  read(key, d);
  out = static_cast<float>(d);
}

void TableReader::read(const std::string& key, int& out) {
  if (auto* n = get(key)) {
    if (!n->is_integer()) fail(key, "must be an integer");
    int64_t v = *n->value<int64_t>();
    if (v < INT32_MIN || v > INT32_MAX) fail(key, "= " + std::to_string(v) + " is out of range");
    out = static_cast<int>(v);
  }
}

void TableReader::read(const std::string& key, uint64_t& out) {
  int v = static_cast<int>(out);
  read(key, v);
  if (v < 0) fail(key, "= " + std::to_string(v) + " must be >= 0");
  out = static_cast<uint64_t>(v);
}

void TableReader::read(const std::string& key, bool& out) {
  if (auto* n = get(key)) {
    if (auto v = n->value<bool>())
      out = *v;
    else
      fail(key, "must be true or false");
  }
}

void TableReader::read(const std::string& key, std::string& out) {
  if (auto* n = get(key)) {
    if (auto v = n->value<std::string>())
      out = *v;
    else
      fail(key, "must be a string");
  }
}

void TableReader::read(const std::string& key, std::vector<std::string>& out) {
  if (auto* n = get(key)) {
    auto* arr = n->as_array();
    if (!arr) fail(key, "must be an array of strings");
    out.clear();
    for (auto& e : *arr) {
      auto v = e.value<std::string>();
      if (!v) fail(key, "must be an array of strings");
      out.push_back(*v);
    }
  }
}

void TableReader::read_pair(const std::string& key, int& h, int& w) {
  auto to_int = [&](int64_t v) {  // not modulo 2^32: 4294967299 is not 3
    if (v < INT32_MIN || v > INT32_MAX) fail(key, "= " + std::to_string(v) + " is out of range");
    return static_cast<int>(v);
  };
  if (auto* n = get(key)) {
    if (n->is_integer()) {
      h = w = to_int(*n->value<int64_t>());
    } else if (auto* arr = n->as_array();
               arr && arr->size() == 2 && (*arr)[0].is_integer() && (*arr)[1].is_integer()) {
      h = to_int(*(*arr)[0].value<int64_t>());
      w = to_int(*(*arr)[1].value<int64_t>());
    } else {
      fail(key, "must be an integer or an array [height, width] of two integers");
    }
  }
}

void TableReader::finish() const {
  for (auto& [k, v] : t_) {
    std::string key(k.str());
    if (!used_.count(key)) fail(key, "is not a known setting");
  }
}

}  // namespace tkws
