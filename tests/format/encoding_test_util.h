// Tensors with a chosen structure for the payload-encoding tests (encoding_test.cpp,
// encoding_damage_test.cpp): exact sparsity and clusters per tensor or per row, built from codes
// (stored bit patterns, tkws.h section 10). Header-only.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "test_models.h"
#include "tinykws/format/tkws.h"
#include "tkws_test_util.h"

namespace tkws::encoding_testing {

using testing_models::Rng;
using testing_models::tiny_model;
using tkws_testing::float_bits;

// ---- Tensors with a chosen structure --------------------------------------------------------
// Everything is built from codes (stored bit patterns, tkws.h section 10): u32 for f32, u16
// for f16, u8 for i8.

inline std::vector<uint32_t> codes_of(const Tensor& t) {
  std::vector<uint32_t> c;
  if (t.dtype == DType::kF32) c = float_bits(t.f32);
  if (t.dtype == DType::kF16)
    for (float v : t.f32) c.push_back(f32_to_f16(v));
  if (t.dtype == DType::kI8)
    for (int8_t v : t.i8) c.push_back(static_cast<uint8_t>(v));
  return c;
}

inline void set_codes(Tensor& t, const std::vector<uint32_t>& codes) {
  t.f32.clear(), t.i8.clear();
  for (uint32_t c : codes) {
    if (t.dtype == DType::kF32) {
      float f;
      std::memcpy(&f, &c, 4);
      t.f32.push_back(f);
    } else if (t.dtype == DType::kF16) {
      t.f32.push_back(f16_to_f32(static_cast<uint16_t>(c)));
    } else {
      t.i8.push_back(static_cast<int8_t>(static_cast<uint8_t>(c)));
    }
  }
  if (t.dtype == DType::kI8) {  // integer tensors need quant params (check_model)
    t.quant.scale = {0.02f};
    t.quant.zero_point = {0};
  }
}

// A non-zero code of dtype `dt` not in `used` (i8: once all 254 values of [-127, 127] \ {0}
// are taken, any of them).
inline uint32_t fresh_code(DType dt, std::set<uint32_t>& used, Rng& rng) {
  for (;;) {
    uint32_t c;
    if (dt == DType::kI8) {
      int v = rng.below(254) - 127;  // [-127, 126] -> [-127, -1] u [1, 127]
      c = static_cast<uint8_t>(static_cast<int8_t>(v >= 0 ? v + 1 : v));
      if (used.size() >= 254) return c;
    } else {
      const float f = rng.uniform(-1.0f, 1.0f);
      std::memcpy(&c, &f, 4);
      if (dt == DType::kF16) c = f32_to_f16(f);
      if (c == 0 || c == 0x8000u || c == 0x80000000u) continue;
    }
    if (used.insert(c).second) return c;
  }
}

struct Pattern {
  double sparsity = 0;   // fraction of the elements that are exactly 0 (rounded to a count)
  int clusters = 0;      // distinct non-zero values per group; 0 = every value fresh
  bool per_row = false;  // one group per row (dims[0]) instead of one per tensor
};

// A tensor with exactly round(sparsity * numel) zeros at random places; the other elements
// take `clusters` values per group (all of them used when a group has that many non-zeros),
// distinct across groups.
inline Tensor make_tensor(const std::string& name, DType dt, std::vector<int32_t> shape, Pattern p,
                          Rng& rng) {
  Tensor t;
  t.name = name;
  t.dtype = dt;
  t.shape = std::move(shape);
  const size_t n = t.numel();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(static_cast<int>(i))]);
  std::vector<bool> nonzero(n, true);
  const size_t zeros = static_cast<size_t>(std::llround(p.sparsity * static_cast<double>(n)));
  for (size_t k = 0; k < zeros; ++k) nonzero[order[k]] = false;
  std::vector<uint32_t> codes(n, 0);
  std::set<uint32_t> used;
  const size_t rows = p.per_row ? static_cast<size_t>(t.shape[0]) : 1, len = n / rows;
  for (size_t r = 0; r < rows; ++r) {
    std::vector<uint32_t> book;
    for (int c = 0; c < p.clusters; ++c) book.push_back(fresh_code(dt, used, rng));
    size_t j = 0;
    for (size_t i = r * len; i < (r + 1) * len; ++i) {
      if (!nonzero[i]) continue;
      if (p.clusters == 0)
        codes[i] = fresh_code(dt, used, rng);
      else
        codes[i] = j < book.size() ? book[j] : book[rng.below(p.clusters)];
      ++j;
    }
  }
  set_codes(t, codes);
  return t;
}

// tiny_model plus extra tensors (unused by its ops: check_model allows that).
inline Model model_with(std::vector<Tensor> extra) {
  Model m = tiny_model(3);
  for (Tensor& t : extra) m.tensors.push_back(std::move(t));
  EXPECT_EQ(check_model(m), "");
  return m;
}

}  // namespace tkws::encoding_testing
