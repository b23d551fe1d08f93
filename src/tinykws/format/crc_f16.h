// The two bit-level helpers of the .tkws format (tkws.h): the file's CRC-32 (section 11) and
// IEEE binary16 conversion for f16 payloads (section 10). Public through tkws.h; compress/
// uses the f16 rounding too.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tkws {

// CRC-32 (IEEE, zlib-compatible): crc32(p, n) == zlib crc32(0, p, n). Chain by passing the
// previous result as `crc`.
uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

// IEEE binary16 <-> binary32 (round to nearest even; NaN stays NaN). Used for f16 payloads.
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);

}  // namespace tkws
