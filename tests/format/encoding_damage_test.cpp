// Damage to the compressed payload encodings of .tkws files (tkws.h, section 10): corrupt
// params, bitmaps, indices and padding give clear InputErrors in v1 and v2, every truncation is
// reported, and the random-mutation fuzz loop on such files never crashes.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "encoding_test_util.h"
#include "test_models.h"
#include "tinykws/format/tkws.h"
#include "tkws_test_util.h"

namespace tkws {
namespace {

using namespace tkws_testing;      // Bytes, put/get, reseal, parse_error, locate_tensor, ...
using namespace encoding_testing;  // make_tensor, model_with, Pattern
using testing_models::Rng;

// One tensor per new encoding, with known geometry (checked below):
//  c.clustered f32 [13][7]: K = 3, b = 2; payload: codebook 12, indices 182 bits = 23 bytes.
//  c.sparse    f16 [16][45]: nnz 72; payload: bitmap 90 + 2 padding, 72 * 2 values.
//  c.sc        i8  [11][63]: nnz 277, K = 3, b = 2, rows 11; payload: bitmap 87 (+1 pad),
//              codebooks 33 (+3 pad), indices 554 bits = 70 bytes.
Model damage_model() {
  Rng rng(31);
  return model_with({make_tensor("c.clustered", DType::kF32, {13, 7}, {0.0, 3, false}, rng),
                     make_tensor("c.sparse", DType::kF16, {16, 45}, {0.9, 0, false}, rng),
                     make_tensor("c.sc", DType::kI8, {11, 63}, {0.6, 3, true}, rng)});
}

// The same damage in both versions; the size errors differ (v1 records state the payload size,
// v2 payloads must exactly fill the file).
TEST(Encoding, CorruptPayloadsAndParamsGiveClearErrors) {
  const Model m = damage_model();
  const Tensor& sc = m.tensors[m.find_tensor("c.sc")];
  size_t first_stored = 0;
  while (sc.i8[first_stored] == 0) ++first_stored;
  size_t a_zero = 0;  // an element of c.sparse that is 0
  while (m.tensors[m.find_tensor("c.sparse")].f32[a_zero] != 0.0f) ++a_zero;

  for (uint32_t version : {1u, 2u}) {
    const bool v1 = version == 1;
    const Bytes full = serialize_model(m, version);
    const V2File file = v1 ? V2File{} : walk_v2(full);
    // One tensor's record in either version.
    struct Loc {
      TensorFields f1{};
      const V2Tensor* f2 = nullptr;
    };
    auto loc = [&](const std::string& name) {
      Loc l;
      if (v1)
        l.f1 = locate_tensor_v1(full, name);
      else
        l.f2 = &file.tensor(name);
      return l;
    };
    const Loc fc = loc("c.clustered"), fs = loc("c.sparse"), fx = loc("c.sc");
    auto offset = [&](const Loc& l) -> size_t {
      return v1 ? get_u64(full, l.f1.payload_offset) : l.f2->payload_offset;
    };
    auto payload_bytes = [&](const Loc& l) {
      return v1 ? get_u64(full, l.f1.payload_bytes) : l.f2->payload_bytes;
    };
    auto encoding = [&](const Loc& l) -> uint64_t {
      return v1 ? full[l.f1.encoding] : l.f2->encoding.value;
    };
    auto num_params = [&](const Loc& l) -> uint64_t {
      return v1 ? get_u32(full, l.f1.num_enc_params) : l.f2->num_enc_params.value;
    };
    auto set_param = [&](Bytes& b, const Loc& l, size_t k, uint32_t x) {
      if (v1)
        put_u32(b, l.f1.enc_params + 4 * k, x);
      else
        set_uvar(b, l.f2->enc_params[k], x, &l.f2->record_bytes);
    };
    auto set_num_params = [&](Bytes& b, const Loc& l, uint32_t n) {
      if (v1)
        put_u32(b, l.f1.num_enc_params, n);
      else
        set_uvar(b, l.f2->num_enc_params, n, &l.f2->record_bytes);
    };
    auto set_encoding = [&](Bytes& b, const Loc& l, uint8_t e) {
      if (v1)
        b[l.f1.encoding] = e;
      else
        set_uvar(b, l.f2->encoding, e, &l.f2->record_bytes);
    };
    ASSERT_EQ(encoding(fc), 1u);
    ASSERT_EQ(encoding(fs), 2u);
    ASSERT_EQ(encoding(fx), 3u);
    ASSERT_EQ(payload_bytes(fc), 35u);
    ASSERT_EQ(payload_bytes(fs), 236u);
    ASSERT_EQ(payload_bytes(fx), 88u + 36 + 70);
    ASSERT_EQ(num_params(fx), 4u);  // {277, 3, 2, 11}
    const size_t oc = offset(fc), os = offset(fs), ox = offset(fx);
    const uint64_t payloads = v1 ? 0 : full.size() - 4 - file.payloads;
    // v2: "the 14 tensor records need N payload bytes", N = the file's payloads + delta.
    auto v2_size = [&](int64_t delta) {
      return std::string(delta > 0 ? "truncated" : "size mismatch") +
             ": the 14 tensor records need " +
             std::to_string(static_cast<int64_t>(payloads) + delta) + " payload bytes from byte " +
             std::to_string(file.payloads) + ", found " + std::to_string(payloads) +
             " before the checksum";
    };

    struct Damage {
      const char* name;
      std::function<void(Bytes&)> edit;
      std::string expect;  // "" = not applicable to this version
    };
    const Damage cases[] = {
        // Payload contents.
        {"clustered index >= K", [&](Bytes& b) { b[oc + 12] |= 0x03; },
         "tensor 'c.clustered': clustered payload: element 0 has codebook index 3, expected < K = "
         "3"},
        {"sparse_clustered index >= K", [&](Bytes& b) { b[ox + 124] |= 0x03; },
         "tensor 'c.sc': sparse_clustered payload: element " + std::to_string(first_stored) +
             " has codebook index 3, expected < K = 3"},
        {"bitmap popcount", [&](Bytes& b) { b[os + a_zero / 8] |= 1 << (a_zero % 8); },
         "tensor 'c.sparse': sparse payload: presence bitmap has 73 bits set, expected nnz = 72"},
        {"bitmap bits past numel", [&](Bytes& b) { b[ox + 86] |= 0x80; },
         "tensor 'c.sc': sparse_clustered payload: presence bitmap has bits set past the last "
         "element (numel = 693)"},
        {"bitmap padding byte", [&](Bytes& b) { b[os + 90] = 1; },
         "tensor 'c.sparse': sparse payload: non-zero padding byte at payload byte 90 (of 236)"},
        {"codebook padding byte", [&](Bytes& b) { b[ox + 88 + 33] = 0x40; },
         "tensor 'c.sc': sparse_clustered payload: non-zero padding byte at payload byte 121"},
        {"index padding bits", [&](Bytes& b) { b[oc + 12 + 22] |= 0x80; },
         "tensor 'c.clustered': clustered payload: non-zero padding bits after the last index"},
        {"encoded payload offset not 4-aligned",
         [&](Bytes& b) {
           if (v1) put_u64(b, fs.f1.payload_offset, os + 2);
         },
         v1 ? "tensor 'c.sparse': expected a payload offset that is a multiple of 4 (sparse), "
              "found " +
                  std::to_string(os + 2)
            : ""},
        // Params.
        {"K = 0", [&](Bytes& b) { set_param(b, fc, 0, 0); },
         "tensor 'c.clustered': clustered encoding: expected K (codebook entries) in [1, 65536], "
         "found 0"},
        {"K = 65537", [&](Bytes& b) { set_param(b, fx, 1, 65537); },
         "tensor 'c.sc': sparse_clustered encoding: expected K (codebook entries) in [1, 65536], "
         "found 65537"},
        {"b = 0", [&](Bytes& b) { set_param(b, fc, 1, 0); },
         "tensor 'c.clustered': clustered encoding: expected b (index bits) in [1, 16], found 0"},
        {"b = 17", [&](Bytes& b) { set_param(b, fx, 2, 17); },
         "tensor 'c.sc': sparse_clustered encoding: expected b (index bits) in [1, 16], found 17"},
        {"K > 2^b", [&](Bytes& b) { set_param(b, fc, 1, 1); },
         "tensor 'c.clustered': clustered encoding: expected K <= 2^b = 2, found K = 3 with b = "
         "1"},
        {"rows not dividing numel", [&](Bytes& b) { set_param(b, fx, 3, 2); },
         "tensor 'c.sc': sparse_clustered encoding: expected rows >= 1 dividing numel = 693, "
         "found 2"},
        {"rows = 0", [&](Bytes& b) { set_param(b, fx, 3, 0); },
         "expected rows >= 1 dividing numel = 693, found 0"},
        {"nnz > numel", [&](Bytes& b) { set_param(b, fs, 0, 1000); },
         "tensor 'c.sparse': sparse encoding: expected nnz <= numel = 720, found 1000"},
        {"nnz vs payload size", [&](Bytes& b) { set_param(b, fs, 0, 71); },
         v1 ? "tensor 'c.sparse': expected a payload of 234 bytes (sparse f16 [16][45], nnz = "
              "71), found 236"
            : v2_size(-2)},
        {"K vs payload size", [&](Bytes& b) { set_param(b, fc, 0, 4); },
         v1 ? "tensor 'c.clustered': expected a payload of 39 bytes (clustered f32 [13][7], K = "
              "4, b = 2, rows = 1), found 35"
            : v2_size(4)},
        {"rows vs payload size", [&](Bytes& b) { set_param(b, fx, 3, 3); },
         v1 ? "tensor 'c.sc': expected a payload of 170 bytes (sparse_clustered i8 [11][63], "
              "nnz = 277, K = 3, b = 2, rows = 3), found 194"
            : v2_size(-24)},
        {"clustered param count", [&](Bytes& b) { set_num_params(b, fc, 1); },
         "tensor 'c.clustered': expected 2 or 3 params {K, b[, rows]} for clustered encoding, "
         "found 1"},
        {"sparse_clustered param count", [&](Bytes& b) { set_num_params(b, fx, 2); },
         "tensor 'c.sc': expected 3 or 4 params {nnz, K, b[, rows]} for sparse_clustered "
         "encoding, found 2"},
        {"sparse param count", [&](Bytes& b) { set_num_params(b, fs, 0); },
         "tensor 'c.sparse': expected 1 param {nnz} for sparse encoding, found 0"},
        {"sparse read as dense", [&](Bytes& b) { set_encoding(b, fs, 0); },
         "tensor 'c.sparse': expected 0 params for dense encoding, found 1"},
        {"unknown encoding", [&](Bytes& b) { set_encoding(b, fx, 4); },
         "tensor 'c.sc': unknown encoding 4 (this build knows 0 dense, 1 clustered, 2 sparse, "
         "3 sparse_clustered)"},
    };
    for (const Damage& d : cases) {
      if (d.expect.empty()) continue;
      Bytes b = full;
      d.edit(b);
      reseal(b);
      const std::string e = parse_error(b);
      EXPECT_EQ(e.rfind("model.tkws: ", 0), 0u) << "v" << version << " " << d.name << ": " << e;
      EXPECT_NE(e.find(d.expect), std::string::npos)
          << "v" << version << " " << d.name << ": got \"" << e << "\"";
      // Without resealing the checksum catches it first (or, when the edit changed the file's
      // length, the size check).
      Bytes raw = full;
      d.edit(raw);
      const std::string r = parse_error(raw);
      EXPECT_TRUE(r.find("checksum mismatch") != std::string::npos ||
                  (raw.size() != full.size() && r.find("bytes, found") != std::string::npos))
          << "v" << version << " " << d.name << ": " << r;
    }
  }
}

TEST(Encoding, EveryTruncationOfACompressedFileIsReported) {
  for (uint32_t v : {1u, 2u}) {
    const Bytes full = serialize_model(damage_model(), v);
    for (size_t n = 0; n < full.size(); ++n) {
      const Bytes cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
      ASSERT_NE(parse_error(cut).find("truncated"), std::string::npos) << "v" << v << " " << n;
    }
  }
}

// The fuzz loop on a file whose tensors use every encoding: tiny_model's weights pruned and
// clustered (so the ops read them) plus the damage tensors; half the edits hit the payloads.
TEST(Encoding, RandomMutationsOfCompressedFilesNeverCrash) {
  Model m = damage_model();
  Rng rng(8);
  for (const char* name : {"conv1.weight", "pw1.weight", "fc.weight"}) {
    Tensor& t = m.tensors[m.find_tensor(name)];
    t = make_tensor(t.name, DType::kF16, t.shape, {0.5, 3, false}, rng);
  }
  Tensor& dw = m.tensors[m.find_tensor("dw1.weight")];
  dw = make_tensor(dw.name, DType::kF32, dw.shape, {0.0, 2, true}, rng);
  for (uint32_t v : {1u, 2u}) {
    const Bytes full = serialize_model(m, v);
    std::set<Encoding> used;
    for (const Tensor& t : parse_model(full.data(), full.size(), "m.tkws").tensors)
      used.insert(t.encoding);
    EXPECT_EQ(used.size(), 4u) << "every encoding in the fuzzed file";
    const size_t payloads = v == 1 ? get_u64(full, 24) : walk_v2(full).payloads;
    const auto [parsed, rejected] = fuzz_parser(full, 4242 + v, 20000, payloads);
    EXPECT_GT(rejected, 10000);
    std::printf("random mutations of a %zu-byte compressed v%u file: %d parsed, %d rejected\n",
                full.size(), v, parsed, rejected);
  }
}

}  // namespace
}  // namespace tkws
