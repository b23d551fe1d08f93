// Helpers shared by the .tkws tests (header-only): byte edits, resealing, error capture, the
// fields of a tensor record, and a bit-exact model comparison.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
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
// (not the checksum) has to catch the damage.
inline void reseal(Bytes& b) {
  put_u64(b, 16, b.size());
  put_u32(b, b.size() - 4, crc32(b.data(), b.size() - 4));
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

// Offsets of the fields of tensor `name`'s record (section 7 in tkws.h), found by its name and
// walked from the bytes themselves.
struct TensorFields {
  size_t dtype, encoding, ndim, dims, num_enc_params, enc_params, payload_offset, payload_bytes;
};
inline TensorFields locate_tensor(const Bytes& b, const std::string& name) {
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
inline TensorFields locate_tensor(const Bytes& b, const Model&, const std::string& name) {
  return locate_tensor(b, name);
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
