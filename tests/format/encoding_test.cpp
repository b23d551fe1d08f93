// .tkws payload encodings (tkws.h, section 10): exact round trips of every encoding x dtype,
// the writer's choice checked against the size formulas written out again here, and the sizes
// of pruned and clustered tensors and models. Damage: encoding_damage_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "encoding_test_util.h"
#include "test_models.h"
#include "tinykws/format/tkws.h"
#include "tkws_test_util.h"

namespace tkws {
namespace {

using namespace tkws_testing;  // Bytes, put/get, reseal, parse_error, locate_tensor, ...
using testing_models::Rng;
using testing_models::tiny_model;
using namespace encoding_testing;  // make_tensor, model_with, codes_of, set_codes, Pattern

// ---- The size formulas of tkws.h, section 10, written out again ----------------------------
struct Candidate {
  Encoding encoding;
  uint32_t rows;
  uint64_t bytes;
};

uint64_t p4(uint64_t x) {
  return (x + 3) / 4 * 4;
}
uint64_t bits_for(uint64_t k) {
  uint64_t b = 1;
  while ((uint64_t{1} << b) < k) ++b;
  return b;
}

// Every encoding the writer may use for `t`, in its tie-break order.
std::vector<Candidate> candidates(const Tensor& t) {
  const std::vector<uint32_t> c = codes_of(t);
  const uint64_t n = c.size(), e = dtype_bytes(t.dtype);
  const uint64_t nnz = n - static_cast<uint64_t>(std::count(c.begin(), c.end(), 0u));
  std::vector<Candidate> out = {{Encoding::kDense, 1, n * e},
                                {Encoding::kSparse, 1, p4((n + 7) / 8) + nnz * e}};
  std::vector<uint32_t> row_options = {1};
  if (t.shape.size() >= 2 && t.shape[0] > 1) row_options.push_back(t.shape[0]);
  std::vector<uint64_t> k_all, k_nonzero;
  for (uint32_t rows : row_options) {
    uint64_t ka = 0, kn = 0;
    for (size_t r = 0; r < rows; ++r) {
      std::set<uint32_t> s(c.begin() + r * (n / rows), c.begin() + (r + 1) * (n / rows));
      ka = std::max<uint64_t>(ka, s.size());
      kn = std::max<uint64_t>(kn, s.size() - s.count(0));
    }
    k_all.push_back(ka), k_nonzero.push_back(kn);
  }
  for (size_t i = 0; i < row_options.size(); ++i)
    if (k_all[i] <= 65536)
      out.push_back({Encoding::kClustered, row_options[i],
                     p4(row_options[i] * k_all[i] * e) + (n * bits_for(k_all[i]) + 7) / 8});
  for (size_t i = 0; i < row_options.size(); ++i)
    if (nnz > 0 && k_nonzero[i] <= 65536)
      out.push_back({Encoding::kSparseClustered, row_options[i],
                     p4((n + 7) / 8) + p4(row_options[i] * k_nonzero[i] * e) +
                         (nnz * bits_for(k_nonzero[i]) + 7) / 8});
  return out;
}

Candidate smallest(const Tensor& t) {
  const std::vector<Candidate> all = candidates(t);
  Candidate best = all[0];
  for (const Candidate& c : all)
    if (c.bytes < best.bytes) best = c;
  return best;
}

// Writes `m` and reads it back, in v2 (the default) and in v1. Checks: values bit-exact;
// deterministic bytes (also when the parsed model is written again); each tensor's record
// (encoding, enc_params, payload size) as describe_storage says, and that the smallest candidate
// of the formulas above; v2 payloads back to back, v1 payloads aligned with the dense ones first.
Model round_trip(const Model& m) {
  const Bytes bytes = serialize_model(m), bytes1 = serialize_model(m, 1);
  EXPECT_EQ(serialize_model(m), bytes);
  const Model back = parse_model(bytes.data(), bytes.size(), "rt.tkws");
  expect_models_equal(m, back, /*compare_encodings=*/false);
  expect_models_equal(back, parse_model(bytes1.data(), bytes1.size(), "rt1.tkws"));
  const std::vector<TensorStorage> storage = describe_storage(m);
  const V2File file = walk_v2(bytes);
  EXPECT_EQ(file.tensors.size(), m.tensors.size());
  for (size_t i = 0; i < m.tensors.size() && i < file.tensors.size(); ++i) {
    const Tensor& t = back.tensors[i];
    const TensorStorage& s = storage[i];
    const Candidate best = smallest(m.tensors[i]);
    EXPECT_EQ(t.encoding, s.encoding) << t.name;
    EXPECT_EQ(s.encoding, best.encoding) << t.name;
    EXPECT_EQ(s.rows, best.rows) << t.name;
    EXPECT_EQ(s.payload_bytes, best.bytes) << t.name;
    std::vector<uint32_t> want_params;
    const bool sparse = s.encoding == Encoding::kSparse || s.encoding == Encoding::kSparseClustered;
    if (sparse) want_params.push_back(static_cast<uint32_t>(s.numel - s.zeros));
    if (s.encoding == Encoding::kClustered || s.encoding == Encoding::kSparseClustered) {
      EXPECT_EQ(s.index_bits, bits_for(s.clusters)) << t.name;
      want_params.push_back(s.clusters), want_params.push_back(s.index_bits);
      if (s.rows > 1) want_params.push_back(s.rows);
    }
    // v2 record.
    const V2Tensor& f = file.tensors[i];
    EXPECT_EQ(f.name, t.name);
    EXPECT_EQ(f.encoding.value, static_cast<uint64_t>(s.encoding)) << t.name;
    EXPECT_EQ(f.payload_bytes, s.payload_bytes) << t.name;
    std::vector<uint32_t> params;
    for (const Varint& v : f.enc_params) params.push_back(static_cast<uint32_t>(v.value));
    EXPECT_EQ(params, want_params) << t.name;
    // v1 record.
    const TensorFields f1 = locate_tensor_v1(bytes1, t.name);
    EXPECT_EQ(get_u64(bytes1, f1.payload_bytes), s.payload_bytes) << t.name;
    EXPECT_EQ(get_u64(bytes1, f1.payload_offset) % (s.encoding == Encoding::kDense ? 32 : 4), 0u)
        << t.name;
    params.assign(get_u32(bytes1, f1.num_enc_params), 0);
    for (size_t k = 0; k < params.size(); ++k) params[k] = get_u32(bytes1, f1.enc_params + 4 * k);
    EXPECT_EQ(params, want_params) << t.name;
    // describe_storage of the parsed model agrees with the file.
    const TensorStorage again = describe_storage(t);
    EXPECT_EQ(again.encoding, t.encoding) << t.name;
    EXPECT_EQ(again.payload_bytes, s.payload_bytes) << t.name;
  }
  // v1: dense payloads come first (32-aligned), then the encoded ones (4-aligned).
  uint64_t last_dense = 0, first_encoded = UINT64_MAX;
  for (const Tensor& t : back.tensors) {
    const uint64_t off = get_u64(bytes1, locate_tensor_v1(bytes1, t.name).payload_offset);
    if (t.encoding == Encoding::kDense)
      last_dense = std::max(last_dense, off);
    else
      first_encoded = std::min(first_encoded, off);
  }
  EXPECT_LT(last_dense, first_encoded);
  EXPECT_EQ(serialize_model(back), bytes);
  EXPECT_EQ(serialize_model(back, 1), bytes1);
  return back;
}

const char* dtype_label(DType dt) {
  return dtype_name(dt);
}

// ---- Round trips ----------------------------------------------------------------------------

TEST(Encoding, NamesAndEnumValuesAreFileFormat) {
  EXPECT_EQ(static_cast<int>(Encoding::kDense), 0);
  EXPECT_EQ(static_cast<int>(Encoding::kClustered), 1);
  EXPECT_EQ(static_cast<int>(Encoding::kSparse), 2);
  EXPECT_EQ(static_cast<int>(Encoding::kSparseClustered), 3);
  EXPECT_STREQ(encoding_name(Encoding::kSparseClustered), "sparse_clustered");
  EXPECT_STREQ(encoding_name(static_cast<Encoding>(4)), "?");
}

// Each structure, on each dtype and on shapes with odd numel, comes back bit-exact in the
// encoding it was built for.
TEST(Encoding, EveryEncodingAndDtypeRoundTripsExactly) {
  struct Case {
    const char* name;
    Pattern pattern;
    Encoding want;
    bool per_row;
  };
  const Case cases[] = {
      {"dense", {0.0, 0, false}, Encoding::kDense, false},
      {"sparse", {0.9, 0, false}, Encoding::kSparse, false},
      {"clustered", {0.0, 4, false}, Encoding::kClustered, false},
      {"clustered per row", {0.0, 4, true}, Encoding::kClustered, true},
      {"sparse_clustered", {0.6, 16, false}, Encoding::kSparseClustered, false},
      {"sparse_clustered per row", {0.6, 4, true}, Encoding::kSparseClustered, true},
  };
  // numel 720, 693 (odd), 135 (odd). Per-row cases use the first two (long enough rows that
  // per-row codebooks pay off for sure).
  const std::vector<std::vector<int32_t>> shapes = {{16, 45}, {11, 63}, {9, 1, 5, 3}};
  int checked = 0;
  for (DType dt : {DType::kF32, DType::kF16, DType::kI8}) {
    for (const Case& c : cases) {
      for (uint64_t seed = 1; seed <= 3; ++seed) {
        Rng rng(seed * 131 + static_cast<uint64_t>(dt));
        std::vector<Tensor> extra;
        for (size_t s = 0; s < (c.per_row ? 2u : 3u); ++s)
          extra.push_back(make_tensor(std::string(1, 'x').append(std::to_string(s)), dt, shapes[s],
                                      c.pattern, rng));
        const Model back = round_trip(model_with(extra));
        for (size_t s = 0; s < extra.size(); ++s) {
          const Tensor& t = back.tensors[back.find_tensor(extra[s].name)];
          const TensorStorage st = describe_storage(t);
          EXPECT_EQ(t.encoding, c.want) << c.name << " " << dtype_label(dt) << " seed " << seed
                                        << " " << t.name << ": got " << encoding_name(t.encoding);
          EXPECT_EQ(st.rows > 1, c.per_row) << c.name << " " << dtype_label(dt) << " " << t.name;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 3 * 3 * (4 * 3 + 2 * 2));
}

// Index widths 1..16 bits on odd element counts: every bit-packing offset and the last
// byte's padding. f32 goes up to b = 16 (K = 32769), f16 up to b = 8; i8 up to b = 7 (with
// 8-bit indices a codebook can never beat 8-bit values).
TEST(Encoding, EveryIndexWidthPacksExactly) {
  for (DType dt : {DType::kF32, DType::kF16, DType::kI8}) {
    const uint32_t max_b = dt == DType::kF32 ? 16 : dt == DType::kF16 ? 8 : 7;
    for (uint32_t b = 1; b <= max_b; ++b) {
      const uint32_t k = b == 1 ? 2 : (1u << (b - 1)) + 1;  // needs exactly b bits
      for (bool with_zeros : {false, true}) {
        Rng rng(1000 + b * 7 + static_cast<uint64_t>(dt) + (with_zeros ? 500 : 0));
        const int32_t n = static_cast<int32_t>((dt == DType::kI8 ? 32 : 16) * k + 1);  // odd
        const Pattern p{with_zeros ? 0.5 : 0.0, static_cast<int>(k), false};
        Tensor t = make_tensor("w", dt, {n}, p, rng);
        const Model back = round_trip(model_with({t}));
        const Tensor& w = back.tensors.back();
        const TensorStorage s = describe_storage(w);
        // Without zeros clustering wins with b bits; with half zeros sparse_clustered does
        // once b > 2 (clustered would need the same b for K + 1 codes and no bitmap).
        if (!with_zeros || b > 2) {
          const Encoding want = with_zeros ? Encoding::kSparseClustered : Encoding::kClustered;
          EXPECT_EQ(w.encoding, want) << dtype_name(dt) << " b " << b << " zeros " << with_zeros;
          EXPECT_EQ(s.index_bits, b) << dtype_name(dt) << " b " << b;
          EXPECT_EQ(s.clusters, k) << dtype_name(dt) << " b " << b;
        }
      }
    }
  }
}

TEST(Encoding, EdgeCases) {
  Rng rng(77);
  std::vector<Tensor> extra;
  for (DType dt : {DType::kF32, DType::kF16, DType::kI8}) {
    const std::string d = dtype_name(dt);
    extra.push_back(make_tensor("zeros." + d, dt, {13, 7}, {1.0, 0, false}, rng));
    extra.push_back(make_tensor("zero1." + d, dt, {1}, {1.0, 0, false}, rng));
    extra.push_back(make_tensor("scalar." + d, dt, {}, {0.0, 0, false}, rng));
    extra.push_back(make_tensor("one_value." + d, dt, {13, 7}, {0.0, 1, false}, rng));
    extra.push_back(make_tensor("one_nonzero." + d, dt, {13, 7}, {0.99, 0, false}, rng));
    extra.push_back(make_tensor("odd_row." + d, dt, {7, 1}, {0.3, 2, true}, rng));
  }
  const Model m = model_with(extra);
  const Model back = round_trip(m);
  for (DType dt : {DType::kF32, DType::kF16, DType::kI8}) {
    const std::string d = dtype_name(dt);
    const size_t e = dtype_bytes(dt);
    auto get = [&](const std::string& name) { return back.tensors[back.find_tensor(name)]; };
    // All zero: a bitmap of ceil(91 / 8) = 12 bytes, nothing else.
    EXPECT_EQ(get("zeros." + d).encoding, Encoding::kSparse) << d;
    EXPECT_EQ(describe_storage(get("zeros." + d)).payload_bytes, 12u) << d;
    EXPECT_EQ(describe_storage(get("zeros." + d)).distinct, 1u) << d;
    EXPECT_EQ(describe_storage(get("zeros." + d)).sparsity(), 1.0) << d;
    // One zero element: dense (E bytes) unless the 4-byte bitmap is smaller (never).
    EXPECT_EQ(get("zero1." + d).encoding, Encoding::kDense) << d;
    // One distinct non-zero value: K = 1, b = 1: codebook pad4(E) + 12 index bytes.
    EXPECT_EQ(get("one_value." + d).encoding, Encoding::kClustered) << d;
    EXPECT_EQ(describe_storage(get("one_value." + d)).payload_bytes, p4(e) + 12) << d;
    EXPECT_EQ(describe_storage(get("one_value." + d)).index_bits, 1u) << d;
    // One non-zero of 91: bitmap 12 + one value.
    EXPECT_EQ(get("one_nonzero." + d).encoding, Encoding::kSparse) << d;
    EXPECT_EQ(describe_storage(get("one_nonzero." + d)).payload_bytes, 12 + e) << d;
  }
}

// -0.0 is a value, not a zero, and NaN payloads survive: the file is bit-exact.
TEST(Encoding, SignedZerosAndNanPayloadsAreKept) {
  const uint32_t nan_payload = 0x7FC01234u, neg_zero = 0x80000000u, one = 0x3F800000u;
  Tensor t;
  t.name = "signed";
  t.shape = {9, 11};
  std::vector<uint32_t> codes(99, 0);  // 80 % +0.0; -0.0, a NaN and 1.0 in turn
  const uint32_t cycle[] = {neg_zero, nan_payload, one};
  for (size_t i = 0; i < codes.size(); i += 5) codes[i] = cycle[(i / 5) % 3];
  set_codes(t, codes);
  Tensor h = t;
  h.name = "signed.f16";
  h.dtype = DType::kF16;
  set_codes(h, std::vector<uint32_t>(99, 0x8000u));  // f16 -0.0 everywhere
  const Model back = round_trip(model_with({t, h}));
  const Tensor& b = back.tensors[back.find_tensor("signed")];
  EXPECT_EQ(float_bits(b.f32), codes);
  EXPECT_EQ(b.encoding, Encoding::kSparseClustered);  // K = 3 non-zero codes
  const TensorStorage s = describe_storage(b);
  EXPECT_EQ(s.zeros, 79u);
  EXPECT_EQ(s.distinct, 4u);
  const Tensor& bh = back.tensors[back.find_tensor("signed.f16")];
  EXPECT_EQ(bh.encoding, Encoding::kClustered);
  for (float v : bh.f32) EXPECT_TRUE(v == 0.0f && std::signbit(v));
}

// 256 or more distinct values: no codebook pays off, dense (or sparse with zeros) is used;
// beyond K = 65536 clustering is not allowed even where it would be smaller.
TEST(Encoding, ManyDistinctValuesFallBackToDenseOrSparse) {
  Rng rng(9);
  std::vector<Tensor> extra;
  extra.push_back(make_tensor("f32.distinct", DType::kF32, {512}, {0.0, 0, false}, rng));
  extra.push_back(make_tensor("f16.distinct", DType::kF16, {8, 64}, {0.0, 0, false}, rng));
  extra.push_back(make_tensor("f32.sparse300", DType::kF32, {10, 100}, {0.7, 0, false}, rng));
  extra.push_back(make_tensor("i8.all254", DType::kI8, {1000}, {0.0, 254, false}, rng));
  const Model back = round_trip(model_with(extra));
  EXPECT_EQ(back.tensors[back.find_tensor("f32.distinct")].encoding, Encoding::kDense);
  EXPECT_EQ(back.tensors[back.find_tensor("f16.distinct")].encoding, Encoding::kDense);
  EXPECT_EQ(back.tensors[back.find_tensor("f32.sparse300")].encoding, Encoding::kSparse);
  EXPECT_EQ(back.tensors[back.find_tensor("i8.all254")].encoding, Encoding::kDense);
  EXPECT_EQ(describe_storage(back.tensors[back.find_tensor("i8.all254")]).distinct, 254u);

  // 70001 distinct f32 values, once in every row of 4: as clusters (b = 17) it would take
  // 4 * 70001 + ceil(280004 * 17 / 8) = 875013 bytes < 1120016 dense, but K > 65536.
  Tensor big = make_tensor("big", DType::kF32, {4, 70001}, {0.0, 70001, true}, rng);
  for (int r = 1; r < 4; ++r)
    std::copy(big.f32.begin(), big.f32.begin() + 70001, big.f32.begin() + r * 70001);
  const TensorStorage s = describe_storage(big);
  EXPECT_EQ(s.distinct, 70001u);
  EXPECT_EQ(s.encoding, Encoding::kDense);
  EXPECT_EQ(s.payload_bytes, 4u * 280004);
}

// The payload bytes themselves, built here bit by bit from tkws.h's text: codebook order,
// LSB-first index packing (the header's example), bitmap bit order, per-row codebooks.
Bytes pack_lsb_first(const std::vector<uint32_t>& indices, uint32_t b) {
  Bytes out((indices.size() * b + 7) / 8, 0);
  size_t s = 0;
  for (uint32_t v : indices)
    for (uint32_t k = 0; k < b; ++k, ++s)
      if ((v >> k) & 1) out[s / 8] |= static_cast<uint8_t>(1u << (s % 8));
  return out;
}

TEST(Encoding, PayloadBytesFollowTheLayoutBitForBit) {
  // f32 [24], codebook 1.0 .. 8.0 (ascending codes), indices 5, 2, 7, 4, 1, ... = (5 + 5i) % 8:
  // clustered, K = 8, b = 3: 32 codebook bytes, then 72 index bits.
  Tensor c;
  c.name = "g.clustered";
  c.shape = {24};
  std::vector<uint32_t> idx;
  for (uint32_t i = 0; i < 24; ++i) {
    idx.push_back((5 + 5 * i) % 8);
    c.f32.push_back(static_cast<float>(idx.back() + 1));
  }
  Bytes want_c;
  for (int k = 1; k <= 8; ++k) {
    const float f = static_cast<float>(k);
    uint32_t u;
    std::memcpy(&u, &f, 4);
    for (int j = 0; j < 4; ++j) want_c.push_back(static_cast<uint8_t>(u >> (8 * j)));
  }
  const Bytes stream = pack_lsb_first(idx, 3);
  want_c.insert(want_c.end(), stream.begin(), stream.end());

  // i8 [2][40]: element i of a row is 0 when i % 5 < 3 (60 %), else row 0: 3 or 9, row 1: -4 or
  // 100 (i odd / even). sparse_clustered with 2 codebooks of K = 2, b = 1: bitmap 10 bytes +
  // 2 padding, codebooks {3, 9} and {100, 252 = -4} (ascending unsigned codes), 32 index bits.
  Tensor s;
  s.name = "g.sc";
  s.dtype = DType::kI8;
  s.shape = {2, 40};
  s.quant.scale = {0.1f};
  s.quant.zero_point = {0};
  Bytes bitmap(10, 0);
  std::vector<uint32_t> sidx;
  for (int r = 0; r < 2; ++r) {
    for (int i = 0; i < 40; ++i) {
      const bool odd = i % 2 != 0;
      int8_t v = 0;
      if (i % 5 >= 3) {
        v = static_cast<int8_t>(r == 0 ? (odd ? 9 : 3) : (odd ? 100 : -4));
        const int e = r * 40 + i;
        bitmap[e / 8] |= static_cast<uint8_t>(1u << (e % 8));
        sidx.push_back(r == 0 ? (odd ? 1 : 0) : (odd ? 0 : 1));
      }
      s.i8.push_back(v);
    }
  }
  Bytes want_s = bitmap;
  want_s.insert(want_s.end(), {0, 0, 3, 9, 100, 0xFC});
  const Bytes sstream = pack_lsb_first(sidx, 1);
  want_s.insert(want_s.end(), sstream.begin(), sstream.end());

  const Model m = model_with({c, s});
  const Bytes bytes = serialize_model(m);
  round_trip(m);
  const V2File file = walk_v2(bytes);
  const V2Tensor &fc = file.tensor("g.clustered"), &fs = file.tensor("g.sc");
  ASSERT_EQ(fc.encoding.value, 1u);
  ASSERT_EQ(fc.enc_params.size(), 2u);
  EXPECT_EQ(fc.enc_params[0].value, 8u);
  EXPECT_EQ(fc.enc_params[1].value, 3u);
  ASSERT_EQ(fc.payload_bytes, want_c.size());
  const size_t oc = fc.payload_offset;
  EXPECT_EQ(Bytes(bytes.begin() + oc, bytes.begin() + oc + want_c.size()), want_c);
  EXPECT_EQ(bytes[oc + 32], 0xD5);  // the header's example: 5, 2, 7, 4 (then 1)
  EXPECT_EQ(bytes[oc + 33], 0x19);
  ASSERT_EQ(fs.encoding.value, 3u);
  ASSERT_EQ(fs.enc_params.size(), 4u);
  EXPECT_EQ(fs.enc_params[0].value, 32u);  // nnz
  EXPECT_EQ(fs.enc_params[1].value, 2u);   // K
  EXPECT_EQ(fs.enc_params[2].value, 1u);   // b
  EXPECT_EQ(fs.enc_params[3].value, 2u);   // rows
  ASSERT_EQ(fs.payload_bytes, want_s.size());
  const size_t os = fs.payload_offset;
  EXPECT_EQ(Bytes(bytes.begin() + os, bytes.begin() + os + want_s.size()), want_s);
  // v1 stores the same payload bytes (at aligned offsets).
  const Bytes bytes1 = serialize_model(m, 1);
  const size_t os1 = get_u64(bytes1, locate_tensor_v1(bytes1, "g.sc").payload_offset);
  EXPECT_EQ(Bytes(bytes1.begin() + os1, bytes1.begin() + os1 + want_s.size()), want_s);
}

// ---- Sizes ----------------------------------------------------------------------------------

// A few sizes by hand from the formulas of tkws.h, section 10.
TEST(Encoding, SizesMatchHandComputedFormulas) {
  Rng rng(21);
  // 720 f32, 4 clusters, no zeros: clustered, codebook 4 * 4, indices 720 * 2 / 8.
  Tensor a = make_tensor("a", DType::kF32, {16, 45}, {0.0, 4, false}, rng);
  EXPECT_EQ(describe_storage(a).payload_bytes, 16u + 180);
  EXPECT_EQ(describe_storage(a).dense_bytes, 2880u);
  // 91 f16, 90 % zeros (9 values, all distinct): sparse, bitmap pad4(12) + 9 * 2.
  Tensor b = make_tensor("b", DType::kF16, {13, 7}, {0.9, 0, false}, rng);
  EXPECT_EQ(describe_storage(b).encoding, Encoding::kSparse);
  EXPECT_EQ(describe_storage(b).payload_bytes, 12u + 18);
  // 720 i8, 4 values per row, 16 rows: clustered with 16 codebooks: 16 * 4 + 720 * 2 / 8.
  Tensor c = make_tensor("c", DType::kI8, {16, 45}, {0.0, 4, true}, rng);
  EXPECT_EQ(describe_storage(c).encoding, Encoding::kClustered);
  EXPECT_EQ(describe_storage(c).rows, 16u);
  EXPECT_EQ(describe_storage(c).payload_bytes, 64u + 180);
  // 720 f16, 60 % zeros (nnz 288), 4 values per row: pad4(90) + 16 * 4 * 2 + 288 * 2 / 8.
  Tensor d = make_tensor("d", DType::kF16, {16, 45}, {0.6, 4, true}, rng);
  EXPECT_EQ(describe_storage(d).encoding, Encoding::kSparseClustered);
  EXPECT_EQ(describe_storage(d).payload_bytes, 92u + 128 + 72);
  EXPECT_EQ(describe_storage(d).zeros, 432u);
  // 693 f32, 60 % zeros (nnz 277), 16 values: pad4(87) + 16 * 4 + ceil(277 * 4 / 8).
  Tensor e = make_tensor("e", DType::kF32, {11, 63}, {0.6, 16, false}, rng);
  EXPECT_EQ(describe_storage(e).encoding, Encoding::kSparseClustered);
  EXPECT_EQ(describe_storage(e).payload_bytes, 88u + 64 + 139);
  EXPECT_EQ(describe_storage(e).distinct, 17u);
  round_trip(model_with({a, b, c, d, e}));
}

// The pruned and clustered tensor of the brief: 12288 weights, 60 % zeros, 16 non-zero values.
// bitmap 1536 + codebook 16 * E + ceil(4915 * 4 / 8) = 2458 index bytes.
TEST(Encoding, PrunedClusteredTensorIsSmall) {
  for (DType dt : {DType::kF32, DType::kF16}) {
    Rng rng(4);
    const Tensor t = make_tensor("w", dt, {64, 192}, {0.6, 16, false}, rng);
    const TensorStorage s = describe_storage(t);
    EXPECT_EQ(s.encoding, Encoding::kSparseClustered);
    EXPECT_EQ(s.payload_bytes, 1536 + 16 * dtype_bytes(dt) + 2458);
    EXPECT_LT(s.payload_bytes, 4200u);
    std::printf(
        "12288 %s weights, 60 %% zeros, 16 clusters: %llu bytes (%.2f bits/weight; "
        "dense %llu)\n",
        dtype_name(dt), static_cast<unsigned long long>(s.payload_bytes), s.bits_per_value(),
        static_cast<unsigned long long>(s.dense_bytes));
    round_trip(model_with({t}));
  }
}

// A DS-CNN as the training pipeline would export it (course front end, 49 x 10 MFCC):
// conv 5x3/2 same -> 64, ReLU, 3 x [dw 3x3 same, ReLU, pw 1x1 -> 64, ReLU], GAP, dense 64 -> 2,
// softmax; BatchNorm folded into the biases. Every weight tensor pruned to `sparsity` and
// clustered to `clusters` values per tensor, 0 included (the clusterer's sparsity-preserving
// mode); biases dense; all stored fp16.
Model pruned_dscnn(double sparsity, int clusters, uint64_t seed) {
  using testing_models::simple_op;
  using testing_models::window_op;
  Rng rng(seed);
  Model m;
  m.frontend.fft_length = 640;
  m.labels = {"down", "up"};
  for (int k = 0; k < 10; ++k) {
    m.norm_mean.push_back(rng.uniform(-2, 2));
    m.norm_inv_std.push_back(rng.uniform(0.5f, 2));
  }
  const Pattern w{sparsity, clusters - 1, false}, b{0.0, 0, false};
  auto add = [&](const std::string& name, std::vector<int32_t> shape, Pattern p) {
    m.tensors.push_back(make_tensor(name, DType::kF16, std::move(shape), p, rng));
    return static_cast<uint32_t>(m.tensors.size() - 1);
  };
  const uint32_t c1 = add("conv1.weight", {64, 1, 5, 3}, w), c1b = add("conv1.bias", {64}, b);
  Op conv = window_op(OpType::kConv2D, 3, 2, Padding::kSame, {c1, c1b}, 64);
  conv.kernel_h = 5;
  m.ops.push_back(conv);
  m.ops.push_back(simple_op(OpType::kRelu));
  for (int k = 0; k < 3; ++k) {
    const std::string p = "block" + std::to_string(k);
    const uint32_t dw = add(p + ".dw.weight", {64, 1, 3, 3}, w), dwb = add(p + ".dw.bias", {64}, b);
    m.ops.push_back(window_op(OpType::kDepthwiseConv2D, 3, 1, Padding::kSame, {dw, dwb}));
    m.ops.push_back(simple_op(OpType::kRelu));
    const uint32_t pw = add(p + ".pw.weight", {64, 64, 1, 1}, w),
                   pwb = add(p + ".pw.bias", {64}, b);
    m.ops.push_back(window_op(OpType::kConv2D, 1, 1, Padding::kSame, {pw, pwb}, 64));
    m.ops.push_back(simple_op(OpType::kRelu));
  }
  m.ops.push_back(simple_op(OpType::kGlobalAvgPool));
  const uint32_t fw = add("fc.weight", {2, 64}, w), fb = add("fc.bias", {2}, b);
  m.ops.push_back(simple_op(OpType::kDense, {fw, fb}, 2));
  m.ops.push_back(simple_op(OpType::kSoftmax));
  EXPECT_EQ(check_model(m), "");
  return m;
}

TEST(Encoding, PrunedClusteredDsCnnFileIsAtMost8kB) {
  const Model m = pruned_dscnn(0.6, 16, 11);
  const Bytes bytes = serialize_model(m);
  round_trip(m);
  uint64_t payload = 0, dense = 0, weights = 0;
  for (const Tensor& t : m.tensors) weights += t.numel();
  std::printf("%-18s %-16s %8s %6s %9s %8s\n", "tensor", "encoding", "numel", "zeros", "distinct",
              "bytes");
  const std::vector<TensorStorage> storage = describe_storage(m);
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const TensorStorage& s = storage[i];
    payload += s.payload_bytes, dense += s.dense_bytes;
    std::printf("%-18s %-16s %8llu %5.1f%% %9llu %8llu\n", m.tensors[i].name.c_str(),
                encoding_name(s.encoding), static_cast<unsigned long long>(s.numel),
                100.0 * s.sparsity(), static_cast<unsigned long long>(s.distinct),
                static_cast<unsigned long long>(s.payload_bytes));
  }
  std::printf(
      "DS-CNN 64 ch, %llu parameters, 60 %% pruned, 16 clusters, fp16: file %zu bytes, v1 %zu "
      "(payloads %llu, dense fp16 payloads %llu)\n",
      static_cast<unsigned long long>(weights), bytes.size(), serialize_model(m, 1).size(),
      static_cast<unsigned long long>(payload), static_cast<unsigned long long>(dense));
  EXPECT_LE(bytes.size(), 8192u);
}

}  // namespace
}  // namespace tkws
