// Fuzz target: the .tkws parser (format/tkws.h parse_model) and, for what it accepts, the
// runtime built from it: KwsPipeline::create and one clip through the front end and the
// network (float or int8), as `tinykws predict` would run a downloaded model file.
// Each input is parsed as it is, then again with its size field and CRC-32 made to match
// (tkws_fixup.h).
#include <optional>
#include <vector>

#include "tinykws/format/tkws.h"
#include "tinykws/runtime/pipeline.h"
#include "tkws_fixup.h"

namespace {

void parse_and_run(const uint8_t* data, size_t size) {
  const std::optional<tkws::Model> parsed = tkws::fuzz::parse_or_refuse(data, size);
  if (!parsed) return;
  const tkws::Model& m = *parsed;
  // The reader's promise: what it returns passes check_model.
  if (!tkws::check_model(m).empty()) __builtin_trap();
  tkws::KwsPipeline p;
  if (!p.create(m).ok()) return;
  std::vector<float> clip(static_cast<size_t>(p.clip_samples()), 0.25f);
  std::vector<float> probs(static_cast<size_t>(p.num_labels()));
  (void)p.run(clip.data(), probs.data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tkws::fuzz::as_is_and_fixed(data, size, parse_and_run);
  return 0;
}
