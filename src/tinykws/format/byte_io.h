// Byte-level writer and reader of the .tkws record area (internal to format/): the field kinds
// of tkws.h (u / s / n / str / rec in v2 and v3, the fixed widths of v1), little-endian loads,
// and a bounds-checked cursor with a sticky first error. Used by records.cpp, encoding.cpp and
// tkws.cpp; tested in tests/format/byte_io_test.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace tkws::detail {

// Little-endian loads from p[0, 4) / p[0, 8).
inline uint32_t ld_u32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
inline uint64_t ld_u64(const uint8_t* p) {
  return ld_u32(p) | uint64_t{ld_u32(p + 4)} << 32;
}
inline float ld_f32(const uint8_t* p) {
  const uint32_t v = ld_u32(p);
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}

// Writer of sections 1-11. `v1` selects the fixed-width integers of format version 1; the
// field methods below (len, sint, nat, code8, code16, word, str, rec) write the same field in
// either version (tkws.h: u / s / n / str / rec in v2, the v1 widths in their comments).
class ByteWriter {
 public:
  explicit ByteWriter(bool v1) : v1(v1) {}
  std::vector<uint8_t> b;
  bool v1;
  void u8(uint8_t v) { b.push_back(v); }
  void u16(uint16_t v) { u8(v & 0xFF), u8(v >> 8); }
  void u32(uint32_t v) { u16(v & 0xFFFF), u16(v >> 16); }
  void u64(uint64_t v) { u32(static_cast<uint32_t>(v)), u32(static_cast<uint32_t>(v >> 32)); }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void f32(float v) {
    uint32_t x;
    std::memcpy(&x, &v, 4);
    u32(x);
  }
  // Unsigned LEB128.
  void uvar(uint64_t v) {
    for (; v >= 0x80; v >>= 7) u8(static_cast<uint8_t>(v | 0x80));
    u8(static_cast<uint8_t>(v));
  }
  // A count, length or record size: v1 u32, v2 u.
  void len(size_t n) { v1 ? u32(checked_u32(n)) : uvar(checked_u32(n)); }
  // A signed i32: v1 i32, v2 s (zigzag).
  void sint(int32_t v) {
    v1 ? i32(v) : uvar((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
  }
  // An i32 that check_model keeps >= 0 (dims, front-end sizes): v1 i32, v2 n.
  void nat(int32_t v) {
    if (v < 0) throw std::logic_error("tkws: negative value for an unsigned field");
    v1 ? i32(v) : uvar(static_cast<uint32_t>(v));
  }
  // Enum values: v1 u8 / u16, v2 u.
  void code8(uint8_t v) { v1 ? u8(v) : uvar(v); }
  void code16(uint16_t v) { v1 ? u16(v) : uvar(v); }
  // A u32 value (tensor index, enc param): v1 u32, v2 u.
  void word(uint32_t v) { v1 ? u32(v) : uvar(v); }
  void str(const std::string& s) {
    len(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
  // A record (or sized section) written into `r`: its size, then its bytes.
  void rec(const ByteWriter& r) {
    len(r.b.size());
    b.insert(b.end(), r.b.begin(), r.b.end());
  }
  void pad_to(size_t align) {
    while (b.size() % align) u8(0);
  }
  // Zero bytes up to a multiple of `align` bytes from position `start`.
  void pad_from(size_t start, size_t align) {
    while ((b.size() - start) % align) u8(0);
  }
  void patch_u32(size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) b[at + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  void patch_u64(size_t at, uint64_t v) {
    patch_u32(at, static_cast<uint32_t>(v)), patch_u32(at + 4, static_cast<uint32_t>(v >> 32));
  }
  static uint32_t checked_u32(size_t n) {
    if (n > UINT32_MAX) throw std::invalid_argument("serialize_model: field exceeds 4 GiB");
    return static_cast<uint32_t>(n);
  }
};

// Reader: a cursor over [pos, end) with a sticky first error. Reads past `end` return zero and
// record "truncated: ..."; callers check ok() before trusting a count or allocating. `v1`
// selects the field widths as in ByteWriter. Error messages name `what` (set_what) and the
// limit ("<limit_name> ends at byte N").
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t pos, size_t end, std::string* err, const char* limit_name,
         bool v1)
      : d_(data), pos_(pos), end_(end), err_(err), limit_name_(limit_name), v1_(v1) {}

  bool ok() const { return err_->empty(); }
  bool v1() const { return v1_; }
  size_t pos() const { return pos_; }
  size_t end() const { return end_; }
  size_t remaining() const { return end_ - pos_; }
  void set_what(std::string what) { what_ = std::move(what); }

  // Records msg unless an earlier error is recorded; returns false.
  bool fail(const std::string& msg) {
    if (err_->empty()) *err_ = msg;
    return false;
  }
  // True if n more bytes are there; otherwise records "truncated: ...".
  bool need(size_t n);
  // The next n bytes (nullptr after an error), moving past them.
  const uint8_t* take(size_t n) {
    if (!need(n)) return nullptr;
    const uint8_t* p = d_ + pos_;
    pos_ += n;
    return p;
  }
  uint8_t u8() {
    const uint8_t* p = take(1);
    return p ? *p : 0;
  }
  uint16_t u16() {
    const uint8_t* p = take(2);
    return p ? static_cast<uint16_t>(p[0] | p[1] << 8) : 0;
  }
  uint32_t u32() {
    const uint8_t* p = take(4);
    return p ? ld_u32(p) : 0;
  }
  uint64_t u64() {
    const uint8_t* p = take(8);
    return p ? ld_u64(p) : 0;
  }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  float f32() {
    const uint8_t* p = take(4);
    return p ? ld_f32(p) : 0.0f;
  }
  // Unsigned LEB128 (v2): at most 10 bytes, minimal, value <= max; 0 after an error.
  uint64_t uvar(uint64_t max);
  // The field kinds of ByteWriter, read back.
  uint32_t len() { return v1_ ? u32() : static_cast<uint32_t>(uvar(UINT32_MAX)); }
  int32_t sint();
  int32_t nat() { return v1_ ? i32() : static_cast<int32_t>(uvar(INT32_MAX)); }
  uint8_t code8() { return v1_ ? u8() : static_cast<uint8_t>(uvar(0xFF)); }
  uint16_t code16() { return v1_ ? u16() : static_cast<uint16_t>(uvar(0xFFFF)); }
  uint32_t word() { return v1_ ? u32() : static_cast<uint32_t>(uvar(UINT32_MAX)); }
  std::string str();
  // A count of items of at least `min_item_bytes` each: rejected before anything is allocated
  // if the remaining bytes cannot hold that many.
  uint32_t count(size_t min_item_bytes);
  // n little-endian f32 values (empty after an error).
  std::vector<float> f32s(uint32_t n);
  // A cursor over the next n bytes (after need(n)); this cursor moves past them. The two share
  // the error string.
  Cursor sub(size_t n, const char* limit_name);

 private:
  const uint8_t* d_;
  size_t pos_, end_;
  std::string* err_;
  const char* limit_name_;
  bool v1_;
  std::string what_;
};

}  // namespace tkws::detail
