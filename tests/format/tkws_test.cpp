// .tkws reader/writer: exact round trips, and every kind of damage gives an InputError that
// names the problem (docs/architecture.md, conventions: a loader that distrusts its input, with a
// fuzz loop).
#include "tinykws/format/tkws.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "test_models.h"
#include "tinykws/common/error.h"
#include "tkws_test_util.h"

namespace tkws {
namespace {

using testing_models::tiny_model;
using namespace tkws_testing;  // Bytes, put/get, reseal, parse_error, all_dtypes_model, ...

constexpr uint32_t kVersions[] = {1, 2, 3};

TEST(Tkws, RoundTripIsExactAndDeterministic) {
  for (const Model& m : {tiny_model(1), all_dtypes_model()}) {
    for (uint32_t v : kVersions) {
      const Bytes bytes = serialize_model(m, v);
      EXPECT_EQ(model_format_version(bytes.data(), bytes.size()), v);
      const Model back = parse_model(bytes.data(), bytes.size(), "model.tkws");
      expect_models_equal(m, back);
      EXPECT_EQ(serialize_model(back, v), bytes);  // re-serialising gives identical bytes
    }
  }
  EXPECT_EQ(serialize_model(tiny_model()), serialize_model(tiny_model(), kTkwsVersion));
  EXPECT_EQ(kTkwsVersion, 3u);
}

TEST(Tkws, Int8FieldsRoundTrip) {
  const Model m = testing_models::int8_dense_model();
  ASSERT_EQ(check_model(m), "");
  for (uint32_t v : kVersions) {
    const Bytes bytes = serialize_model(m, v);
    const Model back = parse_model(bytes.data(), bytes.size(), "int8.tkws");
    expect_models_equal(m, back);
    EXPECT_EQ(back.input_quant.scale, m.input_quant.scale);
    EXPECT_EQ(back.input_quant.zero_point, m.input_quant.zero_point);
    EXPECT_EQ(back.input_quant.axis, -1);
    EXPECT_TRUE(back.is_int8());
    EXPECT_EQ(serialize_model(back, v), bytes);
  }
}

// Version 3 (= v2 + section 8a), walked from tkws.h's text: header, varint fields of every op
// and tensor record, payloads back to back in tensor order up to the checksum.
TEST(Tkws, V2FollowsTheLayout) {
  const Model m = tiny_model();
  const Bytes b = serialize_model(m);
  EXPECT_EQ(0, std::memcmp(b.data(), "TKWS", 4));
  EXPECT_EQ(get_u32(b, 4), 3u);
  EXPECT_EQ(get_u32(b, 8), b.size());
  EXPECT_EQ(get_u32(b, 12), 0u);  // flags
  EXPECT_EQ(get_u32(b, b.size() - 4), crc32(b.data(), b.size() - 4));
  // Section 2 byte by byte: n 16000, n 2560, n 640, n 320, n 0, n 40, f32 20, f32 4000,
  // u 1 (MFCC), u 0 (magnitude), s 10, f32 1e-6, f32 32768.
  Bytes fe = {0x80, 0x7D, 0x80, 0x14, 0x80, 0x05, 0xC0, 0x02, 0x00, 0x28};
  for (float x : {20.0f, 4000.0f}) {
    fe.resize(fe.size() + 4);
    std::memcpy(&fe[fe.size() - 4], &x, 4);  // little-endian host
  }
  fe.insert(fe.end(), {0x01, 0x00, 0x14});
  for (float x : {1e-6f, 32768.0f}) {
    fe.resize(fe.size() + 4);
    std::memcpy(&fe[fe.size() - 4], &x, 4);
  }
  ASSERT_EQ(b[kTkwsHeaderBytes], fe.size());
  EXPECT_EQ(Bytes(b.begin() + kTkwsHeaderBytes + 1, b.begin() + kTkwsHeaderBytes + 1 + fe.size()),
            fe);
  const V2File f = walk_v2(b);
  EXPECT_EQ(f.labels.value, 3u);
  EXPECT_EQ(f.input_quant_axis.value, zigzag(-1));
  ASSERT_EQ(f.ops.size(), m.ops.size());
  for (size_t i = 0; i < m.ops.size(); ++i) {
    const Op& op = m.ops[i];
    const V2Op& r = f.ops[i];
    EXPECT_EQ(r.type.value, static_cast<uint64_t>(op.type)) << i;
    EXPECT_EQ(r.padding.value, static_cast<uint64_t>(op.padding)) << i;
    EXPECT_EQ(r.kernel_h.value, zigzag(op.kernel_h)) << i;
    EXPECT_EQ(r.stride_w.value, zigzag(op.stride_w)) << i;
    EXPECT_EQ(r.out_channels.value, zigzag(op.out_channels)) << i;
    ASSERT_EQ(r.tensors.size(), op.tensors.size()) << i;
    for (size_t k = 0; k < op.tensors.size(); ++k) EXPECT_EQ(r.tensors[k].value, op.tensors[k]);
  }
  ASSERT_EQ(f.tensors.size(), m.tensors.size());
  uint64_t at = f.payloads;
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const Tensor& t = m.tensors[i];
    const V2Tensor& r = f.tensors[i];
    EXPECT_EQ(r.name, t.name);
    EXPECT_EQ(r.payload_offset, at) << t.name;  // back to back, no alignment
    EXPECT_EQ(r.payload_bytes, t.numel() * 4) << t.name;
    ASSERT_EQ(r.dims.size(), t.shape.size());
    for (size_t k = 0; k < t.shape.size(); ++k) EXPECT_EQ(r.dims[k].value, t.shape[k]);
    float first;
    std::memcpy(&first, &b[r.payload_offset], 4);  // little-endian host
    EXPECT_EQ(first, t.f32[0]) << t.name;
    at += r.payload_bytes;
  }
  EXPECT_EQ(at, b.size() - 4);
}

TEST(Tkws, V1HeaderAndAlignmentFollowTheLayout) {
  const Model m = tiny_model();
  const Bytes b = serialize_model(m, 1);
  EXPECT_EQ(0, std::memcmp(b.data(), "TKWS", 4));
  EXPECT_EQ(get_u32(b, 4), 1u);
  EXPECT_EQ(get_u32(b, 8), kTkwsV1HeaderBytes);
  EXPECT_EQ(get_u64(b, 16), b.size());
  EXPECT_EQ(get_u64(b, 24) % kTkwsV1Align, 0u);
  EXPECT_EQ(get_u32(b, b.size() - 4), crc32(b.data(), b.size() - 4));
  for (const Tensor& t : m.tensors) {
    const TensorFields f = locate_tensor_v1(b, t.name);
    const uint64_t off = get_u64(b, f.payload_offset);
    EXPECT_EQ(off % 32, 0u) << t.name;
    EXPECT_EQ(get_u64(b, f.payload_bytes), t.numel() * 4) << t.name;
    float first;
    std::memcpy(&first, &b[off], 4);  // little-endian host
    EXPECT_EQ(first, t.f32[0]) << t.name;
  }
}

TEST(Tkws, BadMagic) {
  Bytes b = serialize_model(tiny_model());
  std::memcpy(b.data(), "RIFF", 4);
  EXPECT_EQ(parse_error(b).rfind("model.tkws: bad magic (expected TKWS, found 'RIFF')", 0), 0u)
      << parse_error(b);
  b[0] = 0x89;
  EXPECT_NE(parse_error(b).find("bad magic (expected TKWS, found bytes 0x89494646)"),
            std::string::npos)
      << parse_error(b);
  EXPECT_NE(parse_error(Bytes{'P', 'K'}).find("bad magic"), std::string::npos);
}

TEST(Tkws, WrongVersion) {
  Bytes b = serialize_model(tiny_model());
  put_u32(b, 4, 7);
  EXPECT_NE(parse_error(b).find("unsupported format version 7 (this build reads 1 to 3)"),
            std::string::npos)
      << parse_error(b);
  put_u32(b, 4, 0);
  EXPECT_NE(parse_error(b).find("unsupported format version 0"), std::string::npos);
  EXPECT_THROW(serialize_model(tiny_model(), 0), std::invalid_argument);
  EXPECT_THROW(serialize_model(tiny_model(), 4), std::invalid_argument);
}

// A v1 file written by the v1 writer before v2 existed (tiny_model(1), 2224 bytes): it still
// loads, and the v1 writer still makes exactly these bytes.
TEST(Tkws, CommittedV1FileStillLoads) {
  const std::string path = std::string(TINYKWS_SOURCE_DIR) + "/tests/fixtures/tiny_model_v1.tkws";
  const Model want = tiny_model(1);
  const Model m = read_model(path);
  expect_models_equal(want, m);
  std::ifstream in(path, std::ios::binary);
  const Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(file.size(), 2224u);
  EXPECT_EQ(model_format_version(file.data(), file.size()), 1u);
  EXPECT_EQ(serialize_model(m, 1), file);
  const Bytes v2 = serialize_model(m);
  expect_models_equal(want, parse_model(v2.data(), v2.size(), "v2.tkws"));
  EXPECT_LT(v2.size() + 1000, file.size());
}

// v2 is smaller on every test model; the difference is record area and padding only.
TEST(Tkws, V2IsSmallerThanV1) {
  struct Case {
    const char* name;
    Model m;
  };
  const Case cases[] = {{"tiny_model", tiny_model(1)},
                        {"all_dtypes_model", all_dtypes_model()},
                        {"int8_dense_model", testing_models::int8_dense_model()},
                        {"dscnn_model(32, 4)", testing_models::dscnn_model()}};
  for (const Case& c : cases) {
    const size_t v1 = serialize_model(c.m, 1).size();
    const Bytes b = serialize_model(c.m, 2);
    uint64_t payloads = 0;
    for (const TensorStorage& s : describe_storage(c.m)) payloads += s.payload_bytes;
    std::printf("%-20s v1 %6zu bytes, v2 %6zu bytes (payloads %llu, v2 overhead %llu)\n", c.name,
                v1, b.size(), static_cast<unsigned long long>(payloads),
                static_cast<unsigned long long>(b.size() - payloads));
    EXPECT_LT(b.size(), v1) << c.name;
    EXPECT_EQ(walk_v2(b).payloads + payloads + 4, b.size()) << c.name;
  }
}

TEST(Tkws, EveryTruncationIsReported) {
  for (uint32_t v : kVersions) {
    const Bytes full = serialize_model(tiny_model(), v);
    for (size_t n = 0; n < full.size(); ++n) {
      const Bytes cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
      const std::string e = parse_error(cut);
      ASSERT_NE(e.find("truncated"), std::string::npos)
          << "v" << v << ", prefix of " << n << " bytes: " << e;
    }
    Bytes longer = full;
    longer.push_back(0);
    EXPECT_NE(parse_error(longer).find("size mismatch"), std::string::npos);
  }
}

TEST(Tkws, EveryFlippedByteIsReported) {
  for (uint32_t v : kVersions) {
    const Bytes full = serialize_model(tiny_model(), v);
    for (size_t i = 0; i < full.size(); ++i) {
      for (uint8_t mask : {0x01, 0x80}) {
        Bytes b = full;
        b[i] ^= mask;
        const std::string e = parse_error(b);
        ASSERT_FALSE(e.empty()) << "v" << v << ", flip at " << i;
        const bool in_magic_version_size = v == 1 ? i < 8 || (i >= 16 && i < 24) : i < 12;
        if (!in_magic_version_size) {
          ASSERT_NE(e.find("checksum mismatch (stored 0x"), std::string::npos)
              << "v" << v << ", " << i << ": " << e;
        }
      }
    }
  }
}

// Damage that keeps the checksum valid: the parser itself must catch it (v1 fields).
TEST(Tkws, CorruptV1FieldsWithValidChecksum) {
  const Model m = tiny_model();
  const Bytes full = serialize_model(m, 1);
  const TensorFields f = locate_tensor_v1(full, "conv1.weight");
  const uint64_t off = get_u64(full, f.payload_offset);
  auto damaged = [&](auto edit) {
    Bytes b = full;
    edit(b);
    reseal(b);
    return parse_error(b);
  };
  std::string e;
  e = damaged([&](Bytes& b) { put_u64(b, f.payload_offset, (b.size() + 31) / 32 * 32); });
  EXPECT_NE(e.find("truncated: tensor 'conv1.weight' payload ends at byte"), std::string::npos)
      << e;
  e = damaged([&](Bytes& b) { put_u64(b, f.payload_offset, ~uint64_t{31}); });  // overflow
  EXPECT_NE(e.find("truncated: tensor 'conv1.weight' payload ends"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { put_u64(b, f.payload_offset, off + 4); });
  EXPECT_NE(e.find("multiple of 32"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { put_u64(b, f.payload_offset, 32); });
  EXPECT_NE(e.find("inside the record area"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { put_u64(b, f.payload_bytes, 4); });
  EXPECT_NE(e.find("expected a payload of 144 bytes (dense f32 [4][1][3][3]), found 4"),
            std::string::npos)
      << e;
  e = damaged([&](Bytes& b) { b[f.dtype] = 9; });
  EXPECT_NE(e.find("tensor 'conv1.weight': unknown dtype 9"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { b[f.encoding] = 7; });
  EXPECT_NE(e.find("tensor 'conv1.weight': unknown encoding 7"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { b[f.encoding] = 1; });  // clustered, but no params
  EXPECT_NE(e.find("tensor 'conv1.weight': expected 2 or 3 params {K, b[, rows]} for clustered "
                   "encoding, found 0"),
            std::string::npos)
      << e;
  e = damaged([&](Bytes& b) { b[f.ndim] = 200; });
  EXPECT_NE(e.find("expected at most 8 dims, found 200"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { put_u32(b, f.dims, 0x80000000u); });
  EXPECT_NE(e.find("bad shape"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { put_u32(b, f.dims + 4, 2); });  // [4][2][3][3], payload too short
  EXPECT_NE(e.find("expected a payload of 288 bytes"), std::string::npos) << e;
  // Header fields.
  e = damaged([&](Bytes& b) { put_u64(b, 24, 40); });
  EXPECT_NE(e.find("bad payload start 40"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { put_u32(b, 12, 4); });
  EXPECT_NE(e.find("unsupported flags 0x00000004"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { put_u32(b, 8, 12); });
  EXPECT_NE(e.find("bad header size 12"), std::string::npos) << e;
  // Section counts and lengths: the front-end section starts at 64, labels right after it.
  const size_t labels = 64 + 4 + kTkwsV1FrontendBytes;
  e = damaged([&](Bytes& b) { put_u32(b, labels, 0xFFFFFFFFu); });
  EXPECT_NE(e.find("truncated: labels count 4294967295"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { put_u32(b, labels + 4, 0x7FFFFFFFu); });  // first label's length
  EXPECT_NE(e.find("truncated: labels needs 2147483647 bytes"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { put_u32(b, 64, 8); });
  EXPECT_NE(e.find("front-end section: expected at least 48 bytes, found 8"), std::string::npos)
      << e;
  e = damaged([&](Bytes& b) { put_u32(b, 64 + 4 + 36, 9); });  // num_mfcc = 9, a valid value
  EXPECT_NE(e.find("invalid model: norm_mean: expected 0 or 9 values (num_features), found 10"),
            std::string::npos)
      << e;
  e = damaged([&](Bytes& b) { put_u32(b, 64 + 4, 5); });  // sample_rate = 5 Hz
  EXPECT_NE(e.find("invalid model: front end: frontend.sample_rate = 5"), std::string::npos) << e;
  // Ops: the first op record follows the labels and the normalisation section.
  size_t ops = labels + 4;
  for (const std::string& l : m.labels) ops += 4 + l.size();
  ops += 4 + 4 * m.norm_mean.size() + 4 + 4 * m.norm_inv_std.size();
  ops += 8;                    // input_quant block, empty: i32 axis, u32 n = 0
  const size_t op0 = ops + 4;  // u32 count, then the record
  e = damaged([&](Bytes& b) { b[op0 + 4] = 42; });
  EXPECT_NE(e.find("op 0: unknown op type 42 (this build knows 1..9)"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { b[op0 + 6] = 3; });
  EXPECT_NE(e.find("op 0 (Conv2D): unknown padding 3"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { b[op0 + 7] = 7; });
  EXPECT_NE(e.find("op 0 (Conv2D): unknown fused activation 7"), std::string::npos) << e;
  e = damaged([&](Bytes& b) { b[op0 + 7] = 1; });  // known value, but not in a float model
  EXPECT_NE(e.find("invalid model: op 0 (Conv2D): fused activation set in a float model"),
            std::string::npos)
      << e;
  e = damaged([&](Bytes& b) { put_u32(b, op0 + 32, 999); });  // first tensor index
  EXPECT_NE(e.find("invalid model: op 0 (Conv2D): expected tensor index < 11, found 999"),
            std::string::npos)
      << e;
  e = damaged([&](Bytes& b) { put_u32(b, op0, 3); });  // record_bytes too small for its fields
  EXPECT_NE(e.find("truncated: op 0 record needs 1 bytes at offset"), std::string::npos) << e;
}

TEST(Tkws, RecordsSkipFieldsAppendedByANewerWriter) {
  // record_bytes lets a v1 reader skip fields a later writer appends. Grow op 0's record by
  // 4 bytes (and everything after it moves): parsing must still give the same model.
  const Model m = tiny_model();
  const Bytes full = serialize_model(m, 1);
  size_t op0 = 64 + 4 + kTkwsV1FrontendBytes + 4;
  for (const std::string& l : m.labels) op0 += 4 + l.size();
  op0 += 8 + 4 * (m.norm_mean.size() + m.norm_inv_std.size()) + 8 + 4;  // norm, input_quant
  const uint32_t n = get_u32(full, op0);
  Bytes b(full.begin(), full.begin() + static_cast<ptrdiff_t>(op0 + 4 + n));
  for (int k = 0; k < 4; ++k) b.push_back(0xAB);
  b.insert(b.end(), full.begin() + static_cast<ptrdiff_t>(op0 + 4 + n), full.end());
  put_u32(b, op0, n + 4);
  // Record area grew by 4 bytes: it still fits before payload_start if padding allows, else
  // this test's premise does not hold; the tiny model leaves room (checked here).
  const uint64_t payload_start = get_u64(full, 24);
  size_t records_end = payload_start;
  while (records_end > 0 && full[records_end - 1] == 0) --records_end;
  ASSERT_LE(records_end + 4, payload_start) << "no padding room in the test model";
  // Remove 4 padding bytes before payload_start so payloads keep their offsets.
  b.erase(b.begin() + static_cast<ptrdiff_t>(payload_start),
          b.begin() + static_cast<ptrdiff_t>(payload_start + 4));
  reseal(b);
  expect_models_equal(m, parse_model(b.data(), b.size(), "grown.tkws"));
}

// v2: the front-end section and every op and tensor record may carry fields appended by a
// newer writer; a reader skips them.
TEST(Tkws, V2RecordsSkipFieldsAppendedByANewerWriter) {
  const Model m = tiny_model();
  const Bytes full = serialize_model(m);
  const V2File f = walk_v2(full);
  Bytes b = full;
  // Back to front, so the offsets found by the walk stay valid.
  auto grow = [&](const Varint& record_bytes, size_t extra) {
    const size_t end = record_bytes.end() + record_bytes.value;
    b.insert(b.begin() + static_cast<ptrdiff_t>(end), extra, 0xAB);
    set_uvar(b, record_bytes, record_bytes.value + extra);
  };
  grow(f.tensors.back().record_bytes, 200);  // record_bytes grows to 2 bytes
  grow(f.tensors[0].record_bytes, 3);
  grow(f.ops[3].record_bytes, 1);
  grow(f.frontend_bytes, 9);
  reseal(b);
  expect_models_equal(m, parse_model(b.data(), b.size(), "grown.tkws"));
}

// Damage to v2's varints and records that keeps the checksum valid. Each edit is made inside
// an otherwise well-formed record (record_bytes follows the edit's length).
TEST(Tkws, CorruptV2FieldsWithValidChecksum) {
  const Model m = tiny_model();
  const Bytes full = serialize_model(m);
  const V2File f = walk_v2(full);
  const V2Tensor& t = f.tensor("conv1.weight");
  const V2Op& op0 = f.ops[0];
  auto damaged = [&](auto edit) {
    Bytes b = full;
    edit(b);
    reseal(b);
    return parse_error(b);
  };
  struct Case {
    const char* name;
    std::function<void(Bytes&)> edit;
    std::string expect;
  };
  const Varint* tr = &t.record_bytes;
  const Varint* orr = &op0.record_bytes;
  const Case cases[] = {
      {"dtype", [&](Bytes& b) { set_uvar(b, t.dtype, 9, tr); },
       "tensor 'conv1.weight': unknown dtype 9"},
      {"dtype > 255", [&](Bytes& b) { set_uvar(b, t.dtype, 256, tr); },
       "tensor 'conv1.weight' record: expected a value <= 255, found 256 (varint at offset " +
           std::to_string(t.dtype.at) + ")"},
      {"encoding", [&](Bytes& b) { set_uvar(b, t.encoding, 7, tr); },
       "tensor 'conv1.weight': unknown encoding 7"},
      {"clustered without params", [&](Bytes& b) { set_uvar(b, t.encoding, 1, tr); },
       "tensor 'conv1.weight': expected 2 or 3 params {K, b[, rows]} for clustered encoding, "
       "found 0"},
      {"ndim", [&](Bytes& b) { set_uvar(b, t.ndim, 200, tr); },
       "expected at most 8 dims, found 200"},
      {"dim > int32", [&](Bytes& b) { set_uvar(b, t.dims[0], 0x80000000u, tr); },
       "expected a value <= 2147483647, found 2147483648"},
      {"dim 0", [&](Bytes& b) { set_uvar(b, t.dims[0], 0, tr); }, "bad shape [0][1][3][3]"},
      {"larger shape: payloads do not fit", [&](Bytes& b) { set_uvar(b, t.dims[1], 2, tr); },
       "truncated: the 11 tensor records need " +
           std::to_string(full.size() - 4 - f.payloads + 144) + " payload bytes from byte " +
           std::to_string(f.payloads) + ", found " + std::to_string(full.size() - 4 - f.payloads) +
           " before the checksum"},
      {"smaller shape: bytes left over", [&](Bytes& b) { set_uvar(b, t.dims[0], 2, tr); },
       "size mismatch: the 11 tensor records need " +
           std::to_string(full.size() - 4 - f.payloads - 72) + " payload bytes"},
      {"trailing bytes before the checksum",
       [&](Bytes& b) {
         b.insert(b.end() - 4, {1, 2, 3});
       },
       "size mismatch: the 11 tensor records need"},
      {"non-minimal varint",
       [&](Bytes& b) {
         set_raw(b, t.dtype, {0x80, 0x00}, tr);
       },
       "tensor 'conv1.weight' record: varint at offset " + std::to_string(t.dtype.at) +
           " is not minimal (its last byte is 0x00)"},
      {"varint over 64 bits",
       [&](Bytes& b) {
         set_raw(b, t.dtype, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}, tr);
       },
       "varint at offset " + std::to_string(t.dtype.at) + " exceeds 64 bits"},
      {"varint over 10 bytes", [&](Bytes& b) { set_raw(b, t.dtype, Bytes(11, 0x80), tr); },
       "exceeds 64 bits"},
      {"record ends inside a varint",  // the last dim's varint continues past the record
       [&](Bytes& b) {
         b[t.dims[3].at] |= 0x80;
         set_uvar(b, t.record_bytes, t.dims[3].end() - t.record_bytes.end());
       },
       "truncated: tensor 'conv1.weight' record needs 1 bytes at offset " +
           std::to_string(t.dims[3].end()) + ", its record ends at byte " +
           std::to_string(t.dims[3].end())},
      {"op type", [&](Bytes& b) { set_uvar(b, op0.type, 42, orr); },
       "op 0: unknown op type 42 (this build knows 1..9)"},
      {"op type > u16", [&](Bytes& b) { set_uvar(b, op0.type, 70000, orr); },
       "op 0 record: expected a value <= 65535, found 70000"},
      {"padding", [&](Bytes& b) { set_uvar(b, op0.padding, 3, orr); },
       "op 0 (Conv2D): unknown padding 3"},
      {"fused activation", [&](Bytes& b) { set_uvar(b, op0.activation, 7, orr); },
       "op 0 (Conv2D): unknown fused activation 7"},
      {"fused activation in a float model", [&](Bytes& b) { set_uvar(b, op0.activation, 1, orr); },
       "invalid model: op 0 (Conv2D): fused activation set in a float model"},
      {"negative kernel (zigzag)", [&](Bytes& b) { set_uvar(b, op0.kernel_h, zigzag(-3), orr); },
       "invalid model: op 0 (Conv2D): expected weight 'conv1.weight' [4][1][-3][3]"},
      {"tensor index", [&](Bytes& b) { set_uvar(b, op0.tensors[0], 999, orr); },
       "invalid model: op 0 (Conv2D): expected tensor index < 11, found 999"},
      {"tensor index > u32", [&](Bytes& b) { set_uvar(b, op0.tensors[0], uint64_t{1} << 32, orr); },
       "op 0 tensor list: expected a value <= 4294967295, found 4294967296"},
      {"op record too short", [&](Bytes& b) { set_uvar(b, op0.record_bytes, 3); },
       "truncated: op 0 record needs 1 bytes at offset"},
      {"flags", [&](Bytes& b) { put_u32(b, 12, 4); }, "unsupported flags 0x00000004"},
      {"labels count", [&](Bytes& b) { set_uvar(b, f.labels, 0xFFFFFFFFu); },
       "truncated: labels count 4294967295"},
      {"labels count > u32", [&](Bytes& b) { set_uvar(b, f.labels, uint64_t{1} << 40); },
       "labels: expected a value <= 4294967295, found 1099511627776"},
      {"label length", [&](Bytes& b) { set_uvar(b, f.first_label_len, 0x7FFFFFFF); },
       "truncated: labels needs 2147483647 bytes"},
      {"ops count", [&](Bytes& b) { set_uvar(b, f.ops_count, 1000); },
       "truncated: ops count 1000 needs at least 12000 bytes"},
      {"metadata length", [&](Bytes& b) { set_uvar(b, f.metadata_len, 100000); },
       "truncated: metadata_json needs 100000 bytes"},
      {"front-end section too short", [&](Bytes& b) { set_uvar(b, f.frontend_bytes, 8); },
       "truncated: front-end section needs 1 bytes at offset 25, its section ends at byte 25"},
      {"num_mfcc",
       [&](Bytes& b) { b[kTkwsHeaderBytes + 1 + 20] = static_cast<uint8_t>(zigzag(9)); },
       "invalid model: norm_mean: expected 0 or 9 values (num_features), found 10"},
      {"sample rate",
       [&](Bytes& b) { set_raw(b, read_uvar(b, kTkwsHeaderBytes + 1), {5}, &f.frontend_bytes); },
       "invalid model: front end: frontend.sample_rate = 5"},
  };
  for (const Case& c : cases) {
    const std::string e = damaged(c.edit);
    EXPECT_EQ(e.rfind("model.tkws: ", 0), 0u) << c.name << ": " << e;
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.name << ": got \"" << e << "\"";
  }
}

// The random-mutation fuzz loop (tkws_test_util.h) on a model of dense tensors, in both
// versions; the compressed encodings get theirs in encoding_test.cpp.
TEST(Tkws, RandomMutationsNeverCrash) {
  for (uint32_t v : kVersions) {
    const auto [parsed, rejected] = fuzz_parser(serialize_model(tiny_model(), v), 12345 + v, 20000);
    EXPECT_GT(rejected, 10000);
    std::printf("random mutations of v%u: %d parsed, %d rejected\n", v, parsed, rejected);
  }
}

TEST(Tkws, TryParseReportsWithoutThrowing) {
  Bytes b = serialize_model(tiny_model());
  Model m;
  std::string err;
  EXPECT_TRUE(try_parse_model(b.data(), b.size(), "ok.tkws", &m, &err));
  EXPECT_EQ(m.labels.size(), 3u);
  b[100] ^= 1;
  EXPECT_FALSE(try_parse_model(b.data(), b.size(), "bad.tkws", &m, &err));
  EXPECT_EQ(err.rfind("bad.tkws: checksum mismatch", 0), 0u) << err;
  EXPECT_FALSE(try_parse_model(nullptr, 0, "empty.tkws", &m, &err));
  EXPECT_NE(err.find("truncated"), std::string::npos);
}

TEST(Tkws, WriterRejectsInvalidModelsAndChoosesEncodingsItself) {
  Model m = tiny_model();
  m.labels.pop_back();
  EXPECT_THROW(serialize_model(m), std::invalid_argument);
  // Tensor::encoding is what the reader found; the writer decides from the values alone.
  m = tiny_model();
  const Bytes want = serialize_model(m);
  const Bytes want1 = serialize_model(m, 1);
  m.tensors[0].encoding = Encoding::kSparse;
  m.tensors[1].encoding = Encoding::kSparseClustered;
  EXPECT_EQ(serialize_model(m), want);
  EXPECT_EQ(serialize_model(m, 1), want1);
  EXPECT_EQ(parse_model(want.data(), want.size(), "m.tkws").tensors[0].encoding, Encoding::kDense);
}

}  // namespace
}  // namespace tkws
