// For the fuzz targets that read .tkws files (tkws, export): a mutated file almost never keeps
// a valid size field and CRC-32, so without a second pass with both made to match, the fuzzer
// would not get past the checksum check.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "tinykws/common/error.h"
#include "tinykws/format/tkws.h"

namespace tkws::fuzz {

// `data` with its size field and trailing CRC-32 set to match (section 1 of tkws.h: v2+ has
// u32 file_bytes @8, v1 u64 file_bytes @16 with a 64-byte header), or an empty vector when it
// is not a .tkws file or already matches.
inline std::vector<uint8_t> with_matching_checksum(const uint8_t* data, size_t size) {
  const uint32_t version = model_format_version(data, size);
  const size_t header = version == 1 ? kTkwsV1HeaderBytes : kTkwsHeaderBytes;
  if (version == 0 || size < header + 4) return {};
  auto put_le = [](uint8_t* p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  };
  std::vector<uint8_t> fixed(data, data + size);
  if (version == 1)
    put_le(fixed.data() + 16, size, 8);
  else
    put_le(fixed.data() + 8, size, 4);
  put_le(fixed.data() + size - 4, crc32(fixed.data(), size - 4), 4);
  if (std::memcmp(fixed.data(), data, size) == 0) return {};
  return fixed;
}

// The model parse_model makes of `data`, or nothing when it refuses it (an InputError, the
// expected answer to bad input).
inline std::optional<Model> parse_or_refuse(const uint8_t* data, size_t size) {
  try {
    return parse_model(data, size, "fuzz.tkws");
  } catch (const InputError&) {
    return std::nullopt;
  }
}

// Runs fn(data, size) on the input as it is, then on its checksum-fixed form when that differs.
template <class Fn>
void as_is_and_fixed(const uint8_t* data, size_t size, Fn fn) {
  fn(data, size);
  const std::vector<uint8_t> fixed = with_matching_checksum(data, size);
  if (!fixed.empty()) fn(fixed.data(), fixed.size());
}

}  // namespace tkws::fuzz
