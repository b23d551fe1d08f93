// Deployment constraints ("accuracy>0.994,size<50kB,latency<40ms", the reports' three course
// constraints, docs/training.md): parsing, checking against measured numbers, and the table /
// JSON that `tinykws eval --constraints` prints. Reused by the search (feasibility filter).
//
// Grammar: a comma-separated list of  METRIC OP NUMBER [UNIT]  (spaces allowed anywhere
// between the parts), any subset, in any order; a metric may repeat (a range).
//   METRIC  accuracy (acc)          fraction of clips right: 0.994, or with %: 99.4%
//           size (model_size)       model file bytes:  B (or none), kB / KB = 1000 B,
//           zipped_size (zipped,    MB = 10^6 B, KiB = 1024 B, MiB = 2^20 B
//                        zip_size)  deflate (zlib level 9) size of the file, same units
//           latency                 total clip-to-decision time, median of the course
//                                   protocol: ms, us (or µs), s; the unit is required
//   OP      <  <=  >  >=
// Anything else (unknown metric or unit, "=", a missing number, NaN, a negative limit,
// accuracy above 1 / 100 %) is an InputError whose message quotes the constraint.
#pragma once
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tkws {

struct EvalReport;

enum class Metric { kAccuracy, kSize, kZippedSize, kLatency };
enum class Compare { kLess, kLessEqual, kGreater, kGreaterEqual };

const char* metric_name(Metric m);      // "accuracy", "size", "zipped_size", "latency"
const char* compare_symbol(Compare c);  // "<", "<=", ">", ">="

struct Constraint {
  Metric metric = Metric::kAccuracy;
  Compare op = Compare::kLess;
  // Canonical units: accuracy as a fraction in [0, 1], sizes in bytes, latency in ms.
  double limit = 0;
  std::string unit;    // as written ("kB", "%", "ms", "" for none): results print in it
  double scale = 1;    // canonical units per `unit` (kB: 1000, us: 0.001, %: 0.01)
  std::string number;  // the limit as written, e.g. "50"
  std::string text;    // the whole constraint as written, trimmed, e.g. "size<50kB"
};

// One constraint; InputError (quoting `text`) if it does not parse.
Constraint parse_constraint(const std::string& text);
// A comma-separated list; InputError if it is empty or any item does not parse.
std::vector<Constraint> parse_constraints(const std::string& list);

// What a model measured, canonical units; NaN = not measured (its constraints fail).
struct Measured {
  double accuracy = std::numeric_limits<double>::quiet_NaN();      // fraction
  double size_bytes = std::numeric_limits<double>::quiet_NaN();    // model file
  double zipped_bytes = std::numeric_limits<double>::quiet_NaN();  // deflated model file
  double latency_ms = std::numeric_limits<double>::quiet_NaN();    // total, median
};
Measured measured_of(const EvalReport& r);  // accuracy, size, zipped size, latency.total.median

struct ConstraintResult {
  Constraint constraint;
  double value = 0;  // measured, canonical units (NaN: not measured)
  bool measured = false;
  bool pass = false;  // measured and the comparison holds (exact, no tolerance)
};

ConstraintResult check(const Constraint& c, const Measured& m);
std::vector<ConstraintResult> check(const std::vector<Constraint>& cs, const Measured& m);
bool all_pass(const std::vector<ConstraintResult>& rs);  // true for an empty list

// The limit or a value in the constraint's own unit: "< 50 kB", "12.690 kB", "99.55 %".
std::string format_limit(const Constraint& c);
std::string format_value(const Constraint& c, double canonical_value);

// Table with columns constraint, limit, result, status (pass / FAIL) and a summary line.
std::string constraints_table(const std::vector<ConstraintResult>& rs);
// {"pass": bool, "failed": n, "results": [{"constraint": "size<50kB", "metric": "size",
//  "op": "<", "limit": 50000, "unit": "kB", "value": 12690, "pass": true}, ...]}; limit and
// value in canonical units (fraction, bytes, ms), value null when not measured.
nlohmann::json constraints_json(const std::vector<ConstraintResult>& rs);

}  // namespace tkws
