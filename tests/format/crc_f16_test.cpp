// The two bit-level helpers of the format (format/crc_f16.h): CRC-32 against zlib's check
// values and binary16 conversion (exact, round to nearest even, every half round trips).
#include "tinykws/format/crc_f16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

namespace tkws {
namespace {

TEST(Crc32, MatchesZlibCheckValues) {
  const char* s = "123456789";
  EXPECT_EQ(crc32(reinterpret_cast<const uint8_t*>(s), 9), 0xCBF43926u);  // the CRC-32 check
  EXPECT_EQ(crc32(nullptr, 0), 0u);
  const uint8_t a[] = {'a'};
  EXPECT_EQ(crc32(a, 1), 0xE8B7BE43u);
  // Chaining equals one pass.
  const uint32_t part = crc32(reinterpret_cast<const uint8_t*>(s), 4);
  EXPECT_EQ(crc32(reinterpret_cast<const uint8_t*>(s) + 4, 5, part), 0xCBF43926u);
}

TEST(F16, ConversionsAreExactAndRoundToNearestEven) {
  EXPECT_EQ(f32_to_f16(0.0f), 0x0000);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xC000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);                      // largest finite half
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);                      // rounds up to inf
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);         // smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);         // tie -> even (0)
  EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);         // 1.5 ulp tie -> even (2)
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie -> even
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(3.0f, -11)), 0x3C02);  // tie -> even (up)
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(std::nanf("")))));
  // Every non-NaN half survives half -> float -> half.
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), h) << "half 0x" << std::hex << h;
  }
}

}  // namespace
}  // namespace tkws
