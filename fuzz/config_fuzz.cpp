// Fuzz target: the TOML training config (config/config.h parse_config, which runs validate()),
// and the defaults text every config starts from.
#include "fuzz_util.h"
#include "tinykws/common/error.h"
#include "tinykws/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tkws::Config c = tkws::parse_config(tkws::fuzz::as_text(data, size), "fuzz.toml");
    (void)c;
  } catch (const tkws::InputError&) {
  }
  return 0;
}
