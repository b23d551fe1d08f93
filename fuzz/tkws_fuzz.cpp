// Fuzz target: the .tkws parser (format/tkws.h parse_model) and, for what it accepts, the
// runtime built from it: KwsPipeline::create and one clip through the front end and the
// network (float or int8), as `tinykws predict` would run a downloaded model file.
// Each input is parsed as it is, then again with its size field and CRC-32 made to match
// (when it starts with the magic): mutated files almost never keep a valid checksum, and
// without the second pass the fuzzer would not get past the checksum check.
#include <cstring>
#include <vector>

#include "fuzz_util.h"
#include "tinykws/common/error.h"
#include "tinykws/format/tkws.h"
#include "tinykws/runtime/pipeline.h"

namespace {

void parse_and_run(const uint8_t* data, size_t size) {
  tkws::Model m;
  try {
    m = tkws::parse_model(data, size, "fuzz.tkws");
  } catch (const tkws::InputError&) {
    return;
  }
  // The reader's promise: what it returns passes check_model.
  if (!tkws::check_model(m).empty()) __builtin_trap();
  tkws::KwsPipeline p;
  if (!p.create(m).ok()) return;
  std::vector<float> clip(static_cast<size_t>(p.clip_samples()), 0.25f);
  std::vector<float> probs(static_cast<size_t>(p.num_labels()));
  (void)p.run(clip.data(), probs.data());
}

void put_le(uint8_t* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parse_and_run(data, size);
  // Section 1 of tkws.h: v2 has u32 file_bytes @8, v1 u64 file_bytes @16 (64-byte header);
  // the last 4 bytes are the CRC-32 of everything before them.
  const uint32_t version = tkws::model_format_version(data, size);
  const size_t header = version == 1 ? tkws::kTkwsV1HeaderBytes : tkws::kTkwsHeaderBytes;
  if (version == 0 || size < header + 4) return 0;
  std::vector<uint8_t> fixed(data, data + size);
  if (version == 1)
    put_le(fixed.data() + 16, size, 8);
  else
    put_le(fixed.data() + 8, size, 4);
  put_le(fixed.data() + size - 4, tkws::crc32(fixed.data(), size - 4), 4);
  if (std::memcmp(fixed.data(), data, size) != 0) parse_and_run(fixed.data(), size);
  return 0;
}
