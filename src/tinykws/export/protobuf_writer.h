// Internal to export/: the protocol buffers wire format, enough to write an ONNX ModelProto by
// hand (no protoc at build time): varints (wire type 0), 32-bit floats (5) and length-delimited
// fields (2: bytes, strings, packed repeated scalars, nested messages). Little-endian host.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace tkws::pb {

class Message {
 public:
  Message& varint(int field, uint64_t v) {
    key(field, 0);
    raw_varint(v);
    return *this;
  }
  // int64 fields: negative values as 10-byte two's complement varints (proto semantics).
  Message& int64(int field, int64_t v) { return varint(field, static_cast<uint64_t>(v)); }
  Message& f32(int field, float v) {
    key(field, 5);
    raw(&v, 4);
    return *this;
  }
  Message& bytes(int field, const void* data, size_t n) {
    key(field, 2);
    raw_varint(n);
    raw(data, n);
    return *this;
  }
  Message& string(int field, const std::string& s) { return bytes(field, s.data(), s.size()); }
  Message& message(int field, const Message& m) {
    return bytes(field, m.buf_.data(), m.buf_.size());
  }
  Message& packed_int64(int field, const std::vector<int64_t>& v) {
    Message inner;
    for (int64_t x : v) inner.raw_varint(static_cast<uint64_t>(x));
    return bytes(field, inner.buf_.data(), inner.buf_.size());
  }
  Message& packed_f32(int field, const std::vector<float>& v) {
    return bytes(field, v.data(), v.size() * sizeof(float));
  }
  const std::vector<uint8_t>& data() const { return buf_; }

 private:
  void key(int field, int wire) { raw_varint((static_cast<uint64_t>(field) << 3) | wire); }
  void raw_varint(uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<uint8_t>(v));
  }
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }
  std::vector<uint8_t> buf_;
};

}  // namespace tkws::pb
