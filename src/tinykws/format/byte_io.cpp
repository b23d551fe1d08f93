// Cursor (byte_io.h): the bounds and varint checks behind every field the reader takes.
#include "tinykws/format/byte_io.h"

namespace tkws::detail {

bool Cursor::need(size_t n) {
  if (!ok()) return false;
  if (n <= remaining()) return true;
  return fail("truncated: " + what_ + " needs " + std::to_string(n) + " bytes at offset " +
              std::to_string(pos_) + ", " + limit_name_ + " ends at byte " + std::to_string(end_));
}

uint64_t Cursor::uvar(uint64_t max) {
  const size_t at = pos_;
  uint64_t v = 0;
  for (int k = 0;; ++k) {
    const uint8_t* p = take(1);
    if (!p) return 0;
    if (k == 9 && *p > 1) {  // bit 63 is the last one a 10th byte can hold
      fail(what_ + ": varint at offset " + std::to_string(at) + " exceeds 64 bits");
      return 0;
    }
    v |= uint64_t{*p & 0x7Fu} << (7 * k);
    if (*p & 0x80) continue;
    if (k > 0 && *p == 0) {
      fail(what_ + ": varint at offset " + std::to_string(at) +
           " is not minimal (its last byte is 0x00)");
      return 0;
    }
    break;
  }
  if (v > max) {
    fail(what_ + ": expected a value <= " + std::to_string(max) + ", found " + std::to_string(v) +
         " (varint at offset " + std::to_string(at) + ")");
    return 0;
  }
  return v;
}

int32_t Cursor::sint() {
  if (v1_) return i32();
  const uint32_t z = static_cast<uint32_t>(uvar(UINT32_MAX));
  return static_cast<int32_t>((z >> 1) ^ (0u - (z & 1)));
}

std::string Cursor::str() {
  const uint32_t n = len();
  const uint8_t* p = take(n);
  return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

uint32_t Cursor::count(size_t min_item_bytes) {
  const uint32_t n = len();
  if (ok() && n > remaining() / min_item_bytes)
    fail("truncated: " + what_ + " count " + std::to_string(n) + " needs at least " +
         std::to_string(static_cast<uint64_t>(n) * min_item_bytes) + " bytes at offset " +
         std::to_string(pos_) + ", " + limit_name_ + " ends at byte " + std::to_string(end_));
  return ok() ? n : 0;
}

std::vector<float> Cursor::f32s(uint32_t n) {
  std::vector<float> v;
  if (const uint8_t* p = take(size_t{n} * 4)) {
    v.resize(n);
    for (uint32_t i = 0; i < n; ++i) v[i] = ld_f32(p + 4 * i);
  }
  return v;
}

Cursor Cursor::sub(size_t n, const char* limit_name) {
  if (!need(n)) return Cursor(d_, pos_, pos_, err_, limit_name, v1_);
  Cursor r(d_, pos_, pos_ + n, err_, limit_name, v1_);
  r.what_ = what_;
  pos_ += n;
  return r;
}

}  // namespace tkws::detail
