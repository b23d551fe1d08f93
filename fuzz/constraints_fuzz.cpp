// Fuzz target: the constraint list (eval/constraints.h parse_constraints), then checking,
// formatting and the JSON of what it accepts against fixed measurements.
#include "fuzz_util.h"
#include "tinykws/common/error.h"
#include "tinykws/eval/constraints.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto cs = tkws::parse_constraints(tkws::fuzz::as_text(data, size));
    tkws::Measured m;
    m.accuracy = 0.995;
    m.size_bytes = 4157;
    m.latency_ms = 0.35;  // zipped size left unmeasured (NaN)
    auto rs = tkws::check(cs, m);
    (void)tkws::constraints_table(rs);
    (void)tkws::constraints_json(rs).dump();
  } catch (const tkws::InputError&) {
  }
  return 0;
}
