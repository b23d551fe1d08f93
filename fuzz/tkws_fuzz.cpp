// Fuzz target: the .tkws parser (format/tkws.h parse_model) and, for what it accepts, the
// runtime built from it: KwsPipeline::create and one clip through the front end and the
// network (float or int8), as `tinykws predict` would run a downloaded model file.
#include <vector>

#include "fuzz_util.h"
#include "tinykws/common/error.h"
#include "tinykws/format/tkws.h"
#include "tinykws/runtime/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tkws::Model m;
  try {
    m = tkws::parse_model(data, size, "fuzz.tkws");
  } catch (const tkws::InputError&) {
    return 0;
  }
  // The reader's promise: what it returns passes check_model.
  if (!tkws::check_model(m).empty()) __builtin_trap();
  tkws::KwsPipeline p;
  if (!p.create(m).ok()) return 0;
  std::vector<float> clip(static_cast<size_t>(p.clip_samples()), 0.25f);
  std::vector<float> probs(static_cast<size_t>(p.num_labels()));
  (void)p.run(clip.data(), probs.data());
  return 0;
}
