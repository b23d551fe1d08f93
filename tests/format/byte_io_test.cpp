// The field widths and the bounds-checked cursor of the .tkws record area (format/byte_io.h):
// varints and zigzag as tkws.h describes them, v1's fixed widths, and the messages of a
// truncated, overlong or non-minimal field. Whole files: tkws_test.cpp.
#include "tinykws/format/byte_io.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tkws::detail {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes written(bool v1, void (*write)(ByteWriter&)) {
  ByteWriter w(v1);
  write(w);
  return w.b;
}

TEST(ByteIo, VarintsAndZigzagFollowTheLayout) {
  // tkws.h: u is LEB128, least significant group first; s is the u of (n << 1) ^ (n >> 31).
  EXPECT_EQ(written(false, [](ByteWriter& w) { w.len(0); }), Bytes({0x00}));
  EXPECT_EQ(written(false, [](ByteWriter& w) { w.len(127); }), Bytes({0x7F}));
  EXPECT_EQ(written(false, [](ByteWriter& w) { w.len(300); }), Bytes({0xAC, 0x02}));
  EXPECT_EQ(written(false, [](ByteWriter& w) { w.sint(-1); }), Bytes({0x01}));
  EXPECT_EQ(written(false, [](ByteWriter& w) { w.sint(1); }), Bytes({0x02}));
  EXPECT_EQ(written(false, [](ByteWriter& w) { w.sint(-2); }), Bytes({0x03}));
  EXPECT_EQ(written(false, [](ByteWriter& w) { w.word(UINT32_MAX); }),
            Bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
  // v1: fixed widths, little-endian.
  EXPECT_EQ(written(true, [](ByteWriter& w) { w.len(300); }), Bytes({0x2C, 0x01, 0, 0}));
  EXPECT_EQ(written(true, [](ByteWriter& w) { w.code8(7); }), Bytes({7}));
  EXPECT_EQ(written(true, [](ByteWriter& w) { w.code16(0x1234); }), Bytes({0x34, 0x12}));
  EXPECT_EQ(written(true, [](ByteWriter& w) { w.sint(-2); }), Bytes({0xFE, 0xFF, 0xFF, 0xFF}));
  EXPECT_THROW(written(false, [](ByteWriter& w) { w.nat(-1); }), std::logic_error);
}

TEST(ByteIo, EveryFieldReadsBackInBothWidths) {
  for (const bool v1 : {false, true}) {
    ByteWriter w(v1);
    const int32_t ints[] = {0,
                            1,
                            -1,
                            63,
                            -64,
                            64,
                            std::numeric_limits<int32_t>::min(),
                            std::numeric_limits<int32_t>::max()};
    for (int32_t v : ints) w.sint(v);
    w.nat(std::numeric_limits<int32_t>::max()), w.code8(255), w.code16(65535), w.word(UINT32_MAX);
    w.str("up"), w.f32(-0.5f);
    ByteWriter r(v1);
    r.len(3);
    w.rec(r);
    std::string err;
    Cursor c(w.b.data(), 0, w.b.size(), &err, "the test bytes", v1);
    for (int32_t v : ints) EXPECT_EQ(c.sint(), v) << "v1 " << v1;
    EXPECT_EQ(c.nat(), std::numeric_limits<int32_t>::max());
    EXPECT_EQ(c.code8(), 255);
    EXPECT_EQ(c.code16(), 65535);
    EXPECT_EQ(c.word(), UINT32_MAX);
    EXPECT_EQ(c.str(), "up");
    EXPECT_EQ(c.f32(), -0.5f);
    Cursor rec = c.sub(c.len(), "its record");
    EXPECT_EQ(rec.len(), 3u);
    EXPECT_EQ(c.remaining(), 0u);
    EXPECT_TRUE(c.ok()) << err;
  }
}

// The first error of a cursor over `b` reading one varint limited to `max`.
std::string uvar_error(const Bytes& b, uint64_t max = UINT64_MAX) {
  std::string err;
  Cursor c(b.data(), 0, b.size(), &err, "the test bytes", false);
  c.set_what("field");
  c.uvar(max);
  return err;
}

TEST(ByteIo, BadVarintsSayWhatAndWhere) {
  EXPECT_EQ(uvar_error({0x80, 0x00}),
            "field: varint at offset 0 is not minimal (its last byte is 0x00)");
  EXPECT_EQ(uvar_error({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}),
            "field: varint at offset 0 exceeds 64 bits");
  EXPECT_EQ(uvar_error({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), "");
  EXPECT_EQ(uvar_error({0xAC, 0x02}, 255),
            "field: expected a value <= 255, found 300 (varint at offset 0)");
  EXPECT_EQ(uvar_error({0x80}),
            "truncated: field needs 1 bytes at offset 1, the test bytes ends at byte 1");
}

TEST(ByteIo, ErrorsAreStickyAndCountsAreCheckedBeforeAllocating) {
  const Bytes b = {0x05, 0x01, 0x02};  // a count of 5 with 2 bytes left
  std::string err;
  Cursor c(b.data(), 0, b.size(), &err, "the test bytes", false);
  c.set_what("labels");
  EXPECT_EQ(c.count(1), 0u);
  EXPECT_EQ(err,
            "truncated: labels count 5 needs at least 5 bytes at offset 1, the test bytes ends at "
            "byte 3");
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.u8(), 0);  // later reads return zero and keep the first message
  c.fail("second problem");
  EXPECT_EQ(err.rfind("truncated: labels count 5", 0), 0u);
  // A sub-cursor stops at its own end and names it.
  std::string err2;
  const Bytes r = {0x01, 0x07, 0x08};
  Cursor outer(r.data(), 0, r.size(), &err2, "the test bytes", false);
  outer.set_what("op 0 record");
  Cursor rec = outer.sub(outer.len(), "its record");
  EXPECT_EQ(rec.u8(), 7);
  EXPECT_EQ(rec.u8(), 0);
  EXPECT_EQ(err2, "truncated: op 0 record needs 1 bytes at offset 2, its record ends at byte 2");
  EXPECT_EQ(outer.pos(), 2u);
}

}  // namespace
}  // namespace tkws::detail
