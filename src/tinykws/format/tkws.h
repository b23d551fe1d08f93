// The .tkws model file: the one place its layout is defined. Reader and writer: tkws.cpp.
//
// Layout, format version 1. Every integer is little-endian; f32 is IEEE-754 binary32, f16 is
// binary16, both little-endian. "str" = u32 byte length + that many UTF-8 bytes (no NUL).
// Offsets are absolute byte offsets from the start of the file.
//
//  1. Header, 64 bytes.
//       @0   u8[4]  magic "TKWS"
//       @4   u32    format_version = 1. A reader rejects any other version.
//       @8   u32    header_bytes = 64. Readers accept >= 64 and skip what they do not know.
//       @12  u32    flags = 0. Bits for features a reader must understand; v1 defines none and
//                   a reader rejects a bit it does not know.
//       @16  u64    file_bytes: size of the whole file, checksum included.
//       @24  u64    payload_start: end of the record area (sections 2-9), a multiple of 32.
//       @32  u8[32] reserved: written as zero, ignored by readers.
//  2. Front-end settings (FrontendConfig, every field): u32 section_bytes (bytes that follow;
//     readers require >= 48 and skip the rest), then
//       i32 sample_rate, i32 clip_samples, i32 frame_length, i32 frame_step, i32 fft_length,
//       i32 num_mel_bins, f32 lower_hz, f32 upper_hz, u8 kind (FeatureKind),
//       u8 spectrum (SpectrumKind), u8[2] reserved, i32 num_mfcc, f32 log_offset,
//       f32 pcm_divisor.
//  3. Labels: u32 count, count x str (output index order).
//  4. Normalisation: u32 n, f32 norm_mean[n]; u32 m, f32 norm_inv_std[m] (n, m: 0 or
//     num_features).
//  5. Input quantisation (Model::input_quant; int8 models only, n = 0 otherwise): a quant
//     block = i32 axis (-1 = per tensor), u32 n, f32 scale[n], i32 zero_point[n]
//     (real = scale * (q - zero_point)).
//  6. Ops: u32 count, then count records, each
//       u32 record_bytes (bytes that follow; readers skip any beyond the fields below),
//       u16 type (OpType), u8 padding (Padding), u8 fused_activation (FusedActivation),
//       i32 kernel_h, i32 kernel_w, i32 stride_h, i32 stride_w, i32 out_channels,
//       u32 num_tensors, u32 tensor_index[num_tensors] (into section 7, in model order),
//       quant block out_quant (n = 0 in float models).
//  7. Tensors: u32 count, then count records, each
//       u32 record_bytes (bytes that follow; readers skip any beyond the fields below),
//       str name, u8 dtype (DType), u8 encoding (Encoding), u8 ndim (<= 8), u8 reserved,
//       i32 dims[ndim] (logical shape, row-major), quant block (n = 0: not quantised),
//       u32 num_enc_params, u32 enc_params[num_enc_params] (meaning set by the encoding),
//       u64 payload_offset (multiple of 32, >= payload_start), u64 payload_bytes.
//  8. metadata_json: str (free-form provenance; not used by the runtime).
//  9. Zero padding up to payload_start.
// 10. Payloads, in tensor order, each at a multiple of 32 bytes, zero padding in between.
//     Encodings (Encoding, with element type `dtype`, numel = product of dims):
//       dense     (0): enc_params = {}; numel x dtype_bytes, row-major.
//       clustered (1): enc_params = {K clusters (1..65536), b index bits (1..16)};
//                      codebook K x dtype_bytes, zero padding to a multiple of 4 bytes, then
//                      numel indices of b bits each, packed LSB-first into bytes.
//       sparse    (2): enc_params = {nnz}; presence bitmap of ceil(numel / 8) bytes (bit i of
//                      byte j set = element 8j + i stored, LSB-first), zero padding to a
//                      multiple of 4 bytes, then nnz x dtype_bytes values in element order.
//     Version 1 of this code writes and reads dense payloads of every dtype; clustered and
//     sparse are reserved above (so adding them needs no version bump) and rejected for now.
// 11. u32 CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320, as zlib's crc32) of bytes
//     [0, file_bytes - 4): the last 4 bytes of the file.
//
// A reader trusts nothing: it checks the magic, version, sizes and checksum before parsing,
// bounds-checks every count, length and offset, and finally runs check_model() (model.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/format/model.h"

namespace tkws {

inline constexpr char kTkwsMagic[4] = {'T', 'K', 'W', 'S'};
inline constexpr uint32_t kTkwsVersion = 1;
inline constexpr uint32_t kTkwsHeaderBytes = 64;
inline constexpr uint32_t kTkwsAlign = 32;          // payload alignment, bytes
inline constexpr uint32_t kTkwsFrontendBytes = 48;  // section 2 fields written by v1
inline constexpr uint32_t kTkwsMaxRank = 8;

// CRC-32 (IEEE, zlib-compatible): crc32(p, n) == zlib crc32(0, p, n). Chain by passing the
// previous result as `crc`.
uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

// Bytes of a .tkws file holding `m`. Deterministic: the same model gives the same bytes.
// Throws std::invalid_argument if check_model(m) fails or a tensor asks for an encoding this
// build cannot write.
std::vector<uint8_t> serialize_model(const Model& m);

// Writes atomically: a temporary file in the same folder, flushed to disk, then renamed over
// `path`. Throws std::invalid_argument (bad model) or std::runtime_error (I/O).
void write_model(const std::string& path, const Model& m);

// Parses a whole file image. Throws InputError (common/error.h) whose message starts with
// "<source_name>: " and names the problem, e.g. "model.tkws: bad magic (expected TKWS,
// found 'RIFF')", "unsupported format version 7 (this build reads 1)", "checksum mismatch
// (stored 0x1234abcd, computed 0x89ab0123)". Never reads outside [data, data + size).
Model parse_model(const uint8_t* data, size_t size, const std::string& source_name);

// Reads and parses `path`; errors name the path. Throws InputError.
Model read_model(const std::string& path);

// parse_model without exceptions for bad input (for targets built without them): returns
// false and sets *error to the same message. Only std::bad_alloc can still escape.
bool try_parse_model(const uint8_t* data, size_t size, const std::string& source_name, Model* out,
                     std::string* error);

// IEEE binary16 <-> binary32 (round to nearest even; NaN stays NaN). Used for f16 payloads.
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);

}  // namespace tkws
