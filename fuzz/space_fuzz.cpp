// Fuzz target: the search space (search/space.h parse_space), then the trial list
// (expand_trials: apply_params + parse_config per trial) when it is small. Base configs are
// looked up in the source tree's configs/ (base = "seed-a.toml" in the seeds).
#include "fuzz_util.h"
#include "tinykws/common/error.h"
#include "tinykws/search/space.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tkws::search;
  try {
    SearchSpace sp = parse_space(tkws::fuzz::as_text(data, size), "fuzz_space.toml",
                                 TINYKWS_SOURCE_DIR "/configs");
    // Each trial parses a whole config: keep an execution short (grids up to 1e6 are legal).
    const uint64_t n =
        sp.mode == SpaceMode::kGrid ? sp.grid_size() : static_cast<uint64_t>(sp.samples);
    if (n <= 16 && sp.axes.size() <= 8) (void)expand_trials(sp);
  } catch (const tkws::InputError&) {
  }
  return 0;
}
