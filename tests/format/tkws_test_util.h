// Helpers shared by the .tkws tests (header-only): a model with every dtype, byte edits, resealing,
// error capture, the fields of a v1 tensor record, a walk over a v2 file written from tkws.h's text
// (varints, records, payload offsets), and a bit-exact model comparison.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "test_models.h"
#include "tinykws/common/error.h"
#include "tinykws/format/tkws.h"

namespace tkws::tkws_testing {

using Bytes = std::vector<uint8_t>;

inline void put_u32(Bytes& b, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) b[at + k] = static_cast<uint8_t>(v >> (8 * k));
}
inline void put_u64(Bytes& b, size_t at, uint64_t v) {
  put_u32(b, at, static_cast<uint32_t>(v)), put_u32(b, at + 4, static_cast<uint32_t>(v >> 32));
}
inline uint32_t get_u32(const Bytes& b, size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}
inline uint64_t get_u64(const Bytes& b, size_t at) {
  return get_u32(b, at) | static_cast<uint64_t>(get_u32(b, at + 4)) << 32;
}
// After editing a field: make file_bytes and the checksum valid again, so the parser itself
// (not the checksum) has to catch the damage. file_bytes is a u64 at 16 in v1 files, a u32 at 8
// in the others (b.size() >= 24 for v1, >= 12 otherwise).
inline void reseal(Bytes& b) {
  if (get_u32(b, 4) == 1)
    put_u64(b, 16, b.size());
  else
    put_u32(b, 8, static_cast<uint32_t>(b.size()));
  put_u32(b, b.size() - 4, crc32(b.data(), b.size() - 4));
}

// A model with tensors of every dtype (unused by ops: check_model allows that).
inline Model all_dtypes_model() {
  Model m = testing_models::tiny_model(3);
  testing_models::Rng rng(5);
  Tensor h;
  h.name = "extra.f16";
  h.dtype = DType::kF16;
  h.shape = {3, 5};
  for (int i = 0; i < 15; ++i) h.f32.push_back(f16_to_f32(f32_to_f16(rng.uniform(-4, 4))));
  m.tensors.push_back(h);
  Tensor q;
  q.name = "extra.i8";
  q.dtype = DType::kI8;
  q.shape = {2, 3};
  q.i8 = {-127, -1, 0, 1, 50, 127};
  q.quant.axis = 0;
  q.quant.scale = {0.5f, 0.25f};
  q.quant.zero_point = {0, 0};
  m.tensors.push_back(q);
  Tensor b;
  b.name = "extra.i32";
  b.dtype = DType::kI32;
  b.shape = {4};
  b.i32 = {std::numeric_limits<int32_t>::min(), -1, 0, std::numeric_limits<int32_t>::max()};
  b.quant.scale = {1e-3f};
  b.quant.zero_point = {0};
  m.tensors.push_back(b);
  return m;
}

// Message of the InputError parse_model throws ("" if it does not throw).
inline std::string parse_error(const Bytes& b, const std::string& name = "model.tkws") {
  try {
    parse_model(b.data(), b.size(), name);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// Offsets of the fields of tensor `name`'s record in a v1 file (section 7 of v1 in tkws.h),
// found by its name and walked from the bytes themselves.
struct TensorFields {
  size_t dtype, encoding, ndim, dims, num_enc_params, enc_params, payload_offset, payload_bytes;
};
inline TensorFields locate_tensor_v1(const Bytes& b, const std::string& name) {
  Bytes key(4);
  put_u32(key, 0, static_cast<uint32_t>(name.size()));
  key.insert(key.end(), name.begin(), name.end());
  auto it = std::search(b.begin(), b.end(), key.begin(), key.end());
  EXPECT_NE(it, b.end()) << name;
  TensorFields f;
  f.dtype = static_cast<size_t>(it - b.begin()) + key.size();
  f.encoding = f.dtype + 1;
  f.ndim = f.dtype + 2;
  f.dims = f.dtype + 4;
  const size_t quant = f.dims + 4 * b[f.ndim];  // i32 axis, u32 n, 8n bytes
  f.num_enc_params = quant + 8 + 8 * size_t{get_u32(b, quant + 4)};
  f.enc_params = f.num_enc_params + 4;
  f.payload_offset = f.enc_params + 4 * size_t{get_u32(b, f.num_enc_params)};
  f.payload_bytes = f.payload_offset + 8;
  return f;
}

// ---- Format version 2 ---------------------------------------------------------------------
// A varint field of a v2 file: its value (u, before any zigzag decoding), offset and length.
struct Varint {
  uint64_t value = 0;
  size_t at = 0, size = 0;
  size_t end() const { return at + size; }
};

inline Bytes uvar_bytes(uint64_t v) {
  Bytes out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<uint8_t>(v | 0x80));
  out.push_back(static_cast<uint8_t>(v));
  return out;
}
inline uint64_t zigzag(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
// The writer's output only (no validation; ASSERTs stop a walk that runs off the end).
inline Varint read_uvar(const Bytes& b, size_t at) {
  Varint v;
  v.at = at;
  for (int shift = 0; at < b.size(); shift += 7) {
    const uint8_t byte = b[at++];
    v.value |= uint64_t{byte & 0x7Fu} << shift;
    if (!(byte & 0x80)) break;
  }
  v.size = at - v.at;
  return v;
}

// Replaces varint `f` by the minimal encoding of `value`. When `record` (the record_bytes of
// the record holding f, which precedes it) is given, record_bytes is updated for the change in
// length, so the damage lands inside an otherwise well-formed record. Fields after these move.
inline void set_uvar(Bytes& b, const Varint& f, uint64_t value, const Varint* record = nullptr) {
  const Bytes enc = uvar_bytes(value);
  const auto at = b.begin() + static_cast<ptrdiff_t>(f.at);
  b.erase(at, at + static_cast<ptrdiff_t>(f.size));
  b.insert(b.begin() + static_cast<ptrdiff_t>(f.at), enc.begin(), enc.end());
  if (record) set_uvar(b, *record, record->value + enc.size() - f.size);  // record precedes f
}
// Replaces varint `f` by raw bytes (overlong, unterminated, ...), updating `record` likewise.
inline void set_raw(Bytes& b, const Varint& f, const Bytes& raw, const Varint* record = nullptr) {
  const auto at = b.begin() + static_cast<ptrdiff_t>(f.at);
  b.erase(at, at + static_cast<ptrdiff_t>(f.size));
  b.insert(b.begin() + static_cast<ptrdiff_t>(f.at), raw.begin(), raw.end());
  if (record) set_uvar(b, *record, record->value + raw.size() - f.size);
}

struct V2Op {
  Varint record_bytes, type, padding, activation, kernel_h, kernel_w, stride_h, stride_w,
      out_channels, num_tensors;
  std::vector<Varint> tensors;
};
struct V2Tensor {
  Varint record_bytes, name_len, dtype, encoding, ndim, axis, num_scales, num_enc_params;
  std::string name;
  std::vector<Varint> dims, enc_params;
  uint64_t payload_offset = 0, payload_bytes = 0;  // placed by section 9
};
// Section 8a of a v3 file: the varint fields, and the offsets of the f32 ones.
struct V3Detector {
  Varint record_bytes, num_flags, hop_ms, smoothing_ms, num_thresholds, min_hops, refractory_ms,
      gate, gate_min_speech_ms, gate_hangover_ms;
  std::vector<Varint> flags;
  size_t threshold_at = 0, thresholds_at = 0, gate_dbfs_at = 0;
};
struct V2File {
  Varint frontend_bytes, labels, first_label_len, norm_mean, input_quant_axis, ops_count,
      tensors_count, metadata_len;
  V3Detector detector;  // v3 files only
  std::vector<V2Op> ops;
  std::vector<V2Tensor> tensors;
  size_t payloads = 0;  // first payload byte (end of section 8)
  const V2Tensor& tensor(const std::string& name) const {
    for (const V2Tensor& t : tensors)
      if (t.name == name) return t;
    ADD_FAILURE() << "no tensor " << name;
    return tensors.at(0);
  }
};

// Payload bytes of a tensor from its record: the `bytes` formulas of tkws.h section 10.
inline uint64_t v2_payload_bytes(const V2Tensor& t) {
  uint64_t n = 1;
  for (const Varint& d : t.dims) n *= d.value;
  const uint64_t e = dtype_bytes(static_cast<DType>(t.dtype.value));
  auto p4 = [](uint64_t x) { return (x + 3) / 4 * 4; };
  std::vector<uint64_t> p;
  for (const Varint& v : t.enc_params) p.push_back(v.value);
  switch (t.encoding.value) {
    case 0:
      return n * e;
    case 1:
      return p4((p.size() > 2 ? p[2] : 1) * p[0] * e) + (n * p[1] + 7) / 8;
    case 2:
      return p4((n + 7) / 8) + p[0] * e;
    default:
      return p4((n + 7) / 8) + p4((p.size() > 3 ? p[3] : 1) * p[1] * e) + (p[0] * p[2] + 7) / 8;
  }
}

// Walks a v2 file the writer made, section by section as tkws.h describes it, and checks the
// structural rules on the way: every record holds exactly the fields it should (the writer
// appends nothing), and the payloads end where the checksum starts.
inline V2File walk_v2(const Bytes& b) {
  V2File f;
  const uint32_t version = get_u32(b, 4);
  EXPECT_TRUE(version == 2 || version == 3) << version;
  size_t at = kTkwsHeaderBytes;
  auto u = [&] {
    const Varint v = read_uvar(b, at);
    at = v.end();
    return v;
  };
  f.frontend_bytes = u();
  at += f.frontend_bytes.value;  // 2
  f.labels = u();                // 3
  for (uint64_t i = 0; i < f.labels.value; ++i) {
    const Varint n = u();
    if (i == 0) f.first_label_len = n;
    at += n.value;
  }
  f.norm_mean = u();  // 4
  at += 4 * f.norm_mean.value;
  at += 4 * u().value;
  auto quant = [&](Varint* axis, Varint* n) {
    *axis = u(), *n = u();
    at += 4 * n->value;
    for (uint64_t k = 0; k < n->value; ++k) u();
  };
  Varint n_scales;
  quant(&f.input_quant_axis, &n_scales);  // 5
  f.ops_count = u();                      // 6
  for (uint64_t i = 0; i < f.ops_count.value; ++i) {
    V2Op op;
    op.record_bytes = u();
    const size_t start = at;
    op.type = u(), op.padding = u(), op.activation = u();
    op.kernel_h = u(), op.kernel_w = u(), op.stride_h = u(), op.stride_w = u();
    op.out_channels = u(), op.num_tensors = u();
    for (uint64_t k = 0; k < op.num_tensors.value; ++k) op.tensors.push_back(u());
    Varint axis, n;
    quant(&axis, &n);
    EXPECT_EQ(at - start, op.record_bytes.value) << "op " << i;
    f.ops.push_back(op);
  }
  f.tensors_count = u();  // 7
  for (uint64_t i = 0; i < f.tensors_count.value; ++i) {
    V2Tensor t;
    t.record_bytes = u();
    const size_t start = at;
    t.name_len = u();
    t.name.assign(b.begin() + static_cast<ptrdiff_t>(at),
                  b.begin() + static_cast<ptrdiff_t>(at + t.name_len.value));
    at += t.name_len.value;
    t.dtype = u(), t.encoding = u(), t.ndim = u();
    for (uint64_t k = 0; k < t.ndim.value; ++k) t.dims.push_back(u());
    quant(&t.axis, &t.num_scales);
    t.num_enc_params = u();
    for (uint64_t k = 0; k < t.num_enc_params.value; ++k) t.enc_params.push_back(u());
    EXPECT_EQ(at - start, t.record_bytes.value) << t.name;
    t.payload_bytes = v2_payload_bytes(t);
    f.tensors.push_back(t);
  }
  f.metadata_len = u();  // 8
  at += f.metadata_len.value;
  if (version >= 3) {  // 8a
    V3Detector& d = f.detector;
    d.record_bytes = u();
    const size_t start = at;
    d.num_flags = u();
    for (uint64_t k = 0; k < d.num_flags.value; ++k) d.flags.push_back(u());
    d.hop_ms = u(), d.smoothing_ms = u();
    d.threshold_at = at;
    at += 4;
    d.num_thresholds = u();
    d.thresholds_at = at;
    at += 4 * d.num_thresholds.value;
    d.min_hops = u(), d.refractory_ms = u(), d.gate = u();
    d.gate_dbfs_at = at;
    at += 4;
    d.gate_min_speech_ms = u(), d.gate_hangover_ms = u();
    EXPECT_EQ(at - start, d.record_bytes.value) << "detector section";
  }
  f.payloads = at;  // 9
  for (V2Tensor& t : f.tensors) {
    t.payload_offset = at;
    at += t.payload_bytes;
  }
  EXPECT_EQ(at + 4, b.size()) << "payloads end at the checksum";
  return f;
}

// Bit patterns of floats: EXPECT_EQ on floats would call -0.0 == 0.0 and NaN != NaN.
inline std::vector<uint32_t> float_bits(const std::vector<float>& v) {
  std::vector<uint32_t> bits(v.size());
  if (!v.empty()) std::memcpy(bits.data(), v.data(), 4 * v.size());
  return bits;
}

// Quantisation parameters equal; `what` names them in failure messages.
inline void expect_quant_equal(const QuantParams& a, const QuantParams& b,
                               const std::string& what) {
  EXPECT_EQ(a.scale, b.scale) << what;
  EXPECT_EQ(a.zero_point, b.zero_point) << what;
  EXPECT_EQ(a.axis, b.axis) << what;
}

// Every field equal, tensor values bit for bit. Encodings are compared unless
// `compare_encodings` is false (a model built in memory says dense for every tensor).
inline void expect_models_equal(const Model& a, const Model& b, bool compare_encodings = true) {
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.norm_mean, b.norm_mean);
  EXPECT_EQ(a.norm_inv_std, b.norm_inv_std);
  EXPECT_EQ(a.metadata_json, b.metadata_json);
  const FrontendConfig &f = a.frontend, &g = b.frontend;
  EXPECT_EQ(f.sample_rate, g.sample_rate);
  EXPECT_EQ(f.clip_samples, g.clip_samples);
  EXPECT_EQ(f.frame_length, g.frame_length);
  EXPECT_EQ(f.frame_step, g.frame_step);
  EXPECT_EQ(f.fft_length, g.fft_length);
  EXPECT_EQ(f.num_mel_bins, g.num_mel_bins);
  EXPECT_EQ(f.lower_hz, g.lower_hz);
  EXPECT_EQ(f.upper_hz, g.upper_hz);
  EXPECT_EQ(f.kind, g.kind);
  EXPECT_EQ(f.num_mfcc, g.num_mfcc);
  EXPECT_EQ(f.spectrum, g.spectrum);
  EXPECT_EQ(f.log_offset, g.log_offset);
  EXPECT_EQ(f.pcm_divisor, g.pcm_divisor);
  expect_quant_equal(a.input_quant, b.input_quant, "input_quant");
  EXPECT_EQ(a.keyword_flags, b.keyword_flags);
  EXPECT_TRUE(a.detector == b.detector) << "detector settings differ";
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    const Op &x = a.ops[i], &y = b.ops[i];
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.kernel_h, y.kernel_h);
    EXPECT_EQ(x.kernel_w, y.kernel_w);
    EXPECT_EQ(x.stride_h, y.stride_h);
    EXPECT_EQ(x.stride_w, y.stride_w);
    EXPECT_EQ(x.padding, y.padding);
    EXPECT_EQ(x.out_channels, y.out_channels);
    EXPECT_EQ(x.tensors, y.tensors);
    EXPECT_EQ(x.fused_activation, y.fused_activation);
    expect_quant_equal(x.out_quant, y.out_quant, "op " + std::to_string(i) + " out_quant");
  }
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const Tensor &x = a.tensors[i], &y = b.tensors[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.shape, y.shape);
    EXPECT_EQ(x.dtype, y.dtype);
    if (compare_encodings) {
      EXPECT_EQ(x.encoding, y.encoding) << x.name;
    }
    EXPECT_EQ(float_bits(x.f32), float_bits(y.f32)) << x.name;  // bit-exact
    EXPECT_EQ(x.i8, y.i8) << x.name;
    EXPECT_EQ(x.i32, y.i32) << x.name;
    expect_quant_equal(x.quant, y.quant, x.name + " quant");
  }
}

// A poor man's fuzzer: deterministic random mutations of `full`, resealed half of the time so
// the parser (not just the checksum) sees them. The parser must only ever return a valid model
// or throw InputError; a model it accepts must be written again, and that file read back and
// written to the same bytes. With focus_begin > 0, half of the edits land in
// [focus_begin, size) (e.g. the payloads). Returns {parsed, rejected}.
inline std::pair<int, int> fuzz_parser(const Bytes& full, uint64_t seed, int iterations,
                                       size_t focus_begin = 0) {
  testing_models::Rng rng(seed);
  int parsed = 0, rejected = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    Bytes b = full;
    const int edits = 1 + rng.below(4);
    for (int k = 0; k < edits; ++k) {
      size_t at = static_cast<size_t>(rng.below(static_cast<int>(b.size())));
      if (focus_begin > 0 && focus_begin < b.size() && rng.below(2))
        at = focus_begin + static_cast<size_t>(rng.below(static_cast<int>(b.size() - focus_begin)));
      switch (rng.below(6)) {
        case 0:
          b[at] ^= static_cast<uint8_t>(1u << rng.below(8));
          break;
        case 1:
          b[at] = static_cast<uint8_t>(rng.below(256));
          break;
        case 2:  // a random 32-bit value, often a huge count or offset
          if (at + 4 <= b.size()) put_u32(b, at, static_cast<uint32_t>(rng.next()));
          break;
        case 3:
          b[at] = rng.below(2) ? 0xFF : 0x00;
          break;
        case 4:
          b.resize(std::max<size_t>(at, 1));
          break;
        case 5:
          b.insert(b.begin() + static_cast<ptrdiff_t>(at), static_cast<uint8_t>(rng.next()));
          break;
      }
    }
    if (rng.below(2) && b.size() >= 32) reseal(b);
    try {
      const Model m = parse_model(b.data(), b.size(), "fuzz.tkws");
      EXPECT_EQ(check_model(m), "");
      const Bytes again = serialize_model(m);  // a model the reader accepts can be written
      EXPECT_EQ(serialize_model(parse_model(again.data(), again.size(), "again.tkws")), again);
      ++parsed;
    } catch (const InputError&) {
      ++rejected;
    }
  }
  return {parsed, rejected};
}

}  // namespace tkws::tkws_testing
