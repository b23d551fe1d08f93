#include "tinykws/eval/constraints.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "tinykws/common/error.h"
#include "tinykws/eval/metrics.h"

namespace tkws {

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Unit {
  const char* name;
  double scale;  // canonical units per unit
};
// Sizes: kB and KB are both 1000 bytes (SI); the binary units say so (KiB).
constexpr Unit kSizeUnits[] = {{"", 1},     {"B", 1},      {"kB", 1e3},   {"KB", 1e3},
                               {"MB", 1e6}, {"KiB", 1024}, {"kiB", 1024}, {"MiB", 1048576}};
constexpr Unit kLatencyUnits[] = {{"ms", 1}, {"us", 1e-3}, {"\xC2\xB5s", 1e-3}, {"s", 1e3}};
constexpr Unit kAccuracyUnits[] = {{"", 1}, {"%", 0.01}};

template <size_t N>
const Unit* find_unit(const Unit (&units)[N], const std::string& u) {
  for (const Unit& x : units)
    if (u == x.name) return &x;
  return nullptr;
}

}  // namespace

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::kAccuracy:
      return "accuracy";
    case Metric::kSize:
      return "size";
    case Metric::kZippedSize:
      return "zipped_size";
    case Metric::kLatency:
      return "latency";
  }
  return "?";
}

const char* compare_symbol(Compare c) {
  switch (c) {
    case Compare::kLess:
      return "<";
    case Compare::kLessEqual:
      return "<=";
    case Compare::kGreater:
      return ">";
    case Compare::kGreaterEqual:
      return ">=";
  }
  return "?";
}

Constraint parse_constraint(const std::string& text) {
  Constraint c;
  c.text = trim(text);
  auto bad = [&](const std::string& why) {
    return InputError("bad constraint \"" + c.text + "\": " + why +
                      " (expected METRIC OP LIMIT, e.g. accuracy>0.994, size<50kB, "
                      "latency<40ms; OP is <, <=, > or >=)");
  };
  if (c.text.empty()) throw bad("empty");

  // METRIC: everything before the first comparison character.
  const size_t op_pos = c.text.find_first_of("<>=!");
  if (op_pos == std::string::npos) throw bad("no comparison");
  const std::string metric = lower(trim(c.text.substr(0, op_pos)));
  if (metric == "accuracy" || metric == "acc")
    c.metric = Metric::kAccuracy;
  else if (metric == "size" || metric == "model_size")
    c.metric = Metric::kSize;
  else if (metric == "zipped_size" || metric == "zipped" || metric == "zip_size")
    c.metric = Metric::kZippedSize;
  else if (metric == "latency")
    c.metric = Metric::kLatency;
  else if (metric.empty())
    throw bad("no metric before the comparison");
  else
    throw bad("unknown metric \"" + metric + "\" (known: accuracy, size, zipped_size, latency)");

  // OP.
  size_t p = op_pos;
  const char first = c.text[p];
  const bool eq = p + 1 < c.text.size() && c.text[p + 1] == '=';
  if (first == '<')
    c.op = eq ? Compare::kLessEqual : Compare::kLess;
  else if (first == '>')
    c.op = eq ? Compare::kGreaterEqual : Compare::kGreater;
  else
    throw bad("unsupported comparison \"" + std::string(1, first) + (eq ? "=" : "") + "\"");
  p += eq ? 2 : 1;

  // NUMBER [UNIT].
  const std::string rest = trim(c.text.substr(p));
  if (rest.empty()) throw bad("no limit after the comparison");
  if (rest[0] == '<' || rest[0] == '>' || rest[0] == '=') throw bad("unsupported comparison");
  double v = 0;
  const char* b = rest.data();
  const char* e = rest.data() + rest.size();
  const auto [end, ec] = std::from_chars(b, e, v, std::chars_format::fixed);
  if (ec != std::errc() || end == b) throw bad("the limit is not a number");
  // Reject exponents and trailing junk in the number part ("1e3" reads as 1 and unit "e3").
  c.number = std::string(b, end);
  if (!std::isfinite(v)) throw bad("the limit is not a finite number");
  if (v < 0) throw bad("the limit is negative");
  c.unit = trim(std::string(end, e));

  const Unit* u = nullptr;
  switch (c.metric) {
    case Metric::kAccuracy:
      u = find_unit(kAccuracyUnits, c.unit);
      if (!u)
        throw bad("accuracy is a fraction (0.994) or a percentage (99.4%), not \"" + c.unit + "\"");
      break;
    case Metric::kSize:
    case Metric::kZippedSize:
      u = find_unit(kSizeUnits, c.unit);
      if (!u)
        throw bad("unknown size unit \"" + c.unit +
                  "\" (B; kB or KB = 1000 B; MB; KiB = 1024 B; MiB)");
      break;
    case Metric::kLatency:
      if (c.unit.empty()) throw bad("latency needs a unit: ms, us or s");
      u = find_unit(kLatencyUnits, c.unit);
      if (!u) throw bad("unknown latency unit \"" + c.unit + "\" (ms, us or s)");
      break;
  }
  c.scale = u->scale;
  c.limit = v * u->scale;
  // Decimal units: shift the exponent of the number as written and round once, so 99.4% is
  // exactly the double 0.994, as "accuracy>0.994" is (99.4 * 0.01 is not).
  if (const double e = std::log10(u->scale); u->scale != 1 && e == std::round(e)) {
    const std::string sci = c.number + "e" + std::to_string(std::lround(e));
    std::from_chars(sci.data(), sci.data() + sci.size(), c.limit, std::chars_format::general);
  }
  if (c.metric == Metric::kAccuracy && c.limit > 1.0)
    throw bad(c.unit.empty() ? "an accuracy fraction is at most 1 (write 99.4% or 0.994)"
                             : "an accuracy is at most 100%");
  return c;
}

std::vector<Constraint> parse_constraints(const std::string& list) {
  if (trim(list).empty())
    throw InputError("no constraints given (expected e.g. accuracy>0.994,size<50kB,latency<40ms)");
  std::vector<Constraint> out;
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (trim(item).empty())
      throw InputError("bad constraint list \"" + trim(list) + "\": an empty item (stray comma?)");
    out.push_back(parse_constraint(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Measured measured_of(const EvalReport& r) {
  Measured m;
  m.accuracy = r.accuracy;
  m.size_bytes = static_cast<double>(r.size_bytes);
  m.zipped_bytes = static_cast<double>(r.zipped_bytes);
  m.latency_ms = r.latency.total.median;
  return m;
}

ConstraintResult check(const Constraint& c, const Measured& m) {
  ConstraintResult r;
  r.constraint = c;
  switch (c.metric) {
    case Metric::kAccuracy:
      r.value = m.accuracy;
      break;
    case Metric::kSize:
      r.value = m.size_bytes;
      break;
    case Metric::kZippedSize:
      r.value = m.zipped_bytes;
      break;
    case Metric::kLatency:
      r.value = m.latency_ms;
      break;
  }
  r.measured = std::isfinite(r.value);
  if (!r.measured) return r;
  switch (c.op) {
    case Compare::kLess:
      r.pass = r.value < c.limit;
      break;
    case Compare::kLessEqual:
      r.pass = r.value <= c.limit;
      break;
    case Compare::kGreater:
      r.pass = r.value > c.limit;
      break;
    case Compare::kGreaterEqual:
      r.pass = r.value >= c.limit;
      break;
  }
  return r;
}

std::vector<ConstraintResult> check(const std::vector<Constraint>& cs, const Measured& m) {
  std::vector<ConstraintResult> out;
  out.reserve(cs.size());
  for (const Constraint& c : cs) out.push_back(check(c, m));
  return out;
}

bool all_pass(const std::vector<ConstraintResult>& rs) {
  return std::all_of(rs.begin(), rs.end(), [](const ConstraintResult& r) { return r.pass; });
}

std::string format_limit(const Constraint& c) {
  return fmt::format("{} {}{}{}", compare_symbol(c.op), c.number, c.unit.empty() ? "" : " ",
                     c.unit);
}

std::string format_value(const Constraint& c, double v) {
  if (!std::isfinite(v)) return "not measured";
  const double x = v / c.scale;
  std::string num;
  switch (c.metric) {
    case Metric::kAccuracy:
      num = c.unit.empty() ? fmt::format("{:.4f}", x) : fmt::format("{:.2f}", x);
      break;
    case Metric::kSize:
    case Metric::kZippedSize:
      // Whole bytes; decimal units with 3 decimals show every byte.
      num = c.scale == 1 ? fmt::format("{:.0f}", x) : fmt::format("{:.3f}", x);
      break;
    case Metric::kLatency:
      num = fmt::format("{:.{}f}", x, c.scale < 1 ? 1 : c.scale > 1 ? 5 : 3);
      break;
  }
  const std::string unit = c.unit.empty() && c.metric != Metric::kAccuracy ? "B" : c.unit;
  return unit.empty() ? num : num + " " + unit;
}

std::string constraints_table(const std::vector<ConstraintResult>& rs) {
  auto what = [](Metric m) -> std::string {
    switch (m) {
      case Metric::kAccuracy:
        return "accuracy";
      case Metric::kSize:
        return "size (model file)";
      case Metric::kZippedSize:
        return "zipped size (deflate -9)";
      case Metric::kLatency:
        return "latency (total, median)";
    }
    return "?";
  };
  std::vector<std::array<std::string, 4>> rows;
  rows.push_back({"constraint", "limit", "result", "status"});
  for (const ConstraintResult& r : rs)
    rows.push_back({what(r.constraint.metric), format_limit(r.constraint),
                    format_value(r.constraint, r.value), r.pass ? "pass" : "FAIL"});
  size_t w[3] = {0, 0, 0};
  for (const auto& row : rows)
    for (int k = 0; k < 3; ++k) w[k] = std::max(w[k], row[k].size());
  std::string out;
  for (const auto& row : rows)
    out += fmt::format("  {:<{}}  {:<{}}  {:<{}}  {}\n", row[0], w[0], row[1], w[1], row[2], w[2],
                       row[3]);
  const auto failed = std::count_if(rs.begin(), rs.end(), [](auto& r) { return !r.pass; });
  out += failed == 0 ? fmt::format("all met ({} of {})\n", rs.size(), rs.size())
                     : fmt::format("FAILED: {} of {} not met\n", failed, rs.size());
  return out;
}

nlohmann::json constraints_json(const std::vector<ConstraintResult>& rs) {
  nlohmann::json results = nlohmann::json::array();
  int failed = 0;
  for (const ConstraintResult& r : rs) {
    const Constraint& c = r.constraint;
    failed += r.pass ? 0 : 1;
    results.push_back({{"constraint", c.text},
                       {"metric", metric_name(c.metric)},
                       {"op", compare_symbol(c.op)},
                       {"limit", c.limit},
                       {"unit", c.unit},
                       {"value", r.measured ? nlohmann::json(r.value) : nlohmann::json(nullptr)},
                       {"pass", r.pass}});
  }
  return {{"pass", failed == 0}, {"failed", failed}, {"results", results}};
}

}  // namespace tkws
