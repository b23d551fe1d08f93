// The .tkws model file: the one place its layout is defined. Reader and writer: tkws.cpp, which
// lists the files it is split into (one per part of the layout below).
//
// Layout, format version 3 (what serialize_model writes; v1, still read, is described after
// section 11). Format version 2, also read and written, is v3 without section 8a; "v2" in the
// comments of format/*.cpp means "v2 and v3". Fixed-width integers are little-endian; f32 is
// IEEE-754 binary32, f16 is binary16, both little-endian. In sections 2-8a:
//   u    unsigned LEB128 varint: 7 value bits per byte, least significant group first, bit 7
//        set on every byte but the last. At most 10 bytes and minimal (no last byte 0x00 after
//        the first); each field names its largest value, larger ones are rejected.
//   s    signed 32-bit integer as the u of its zigzag code (n << 1) ^ (n >> 31): 0 -> 0,
//        -1 -> 1, 1 -> 2, -2 -> 3, ... (at most 2^32 - 1).
//   n    non-negative 32-bit integer as a u (at most 2^31 - 1).
//   str  u byte length + that many UTF-8 bytes (no NUL).
//   rec  u record_bytes (the bytes that follow) + the record's fields; a reader reads the
//        fields it knows inside those bytes and skips the rest (newer writers append fields),
//        and a record too short for its fields is "truncated".
//
//  1. Header, 16 bytes.
//       @0   u8[4]  magic "TKWS"
//       @4   u32    format_version = 3. Here in every version: readers dispatch on it.
//       @8   u32    file_bytes: size of the whole file, checksum included.
//       @12  u32    flags = 0. Bits for features a reader must understand; v2 and v3 define
//                   none and a reader rejects a bit it does not know.
//  2. Front-end settings (FrontendConfig, every field), as a rec:
//       n sample_rate, n clip_samples, n frame_length, n frame_step, n fft_length,
//       n num_mel_bins, f32 lower_hz, f32 upper_hz, u kind (FeatureKind, <= 255),
//       u spectrum (SpectrumKind, <= 255), s num_mfcc, f32 log_offset, f32 pcm_divisor.
//  3. Labels: u count, count x str (output index order).
//  4. Normalisation: u n, f32 norm_mean[n]; u m, f32 norm_inv_std[m] (n, m: 0 or
//     num_features).
//  5. Input quantisation (Model::input_quant; int8 models only, n = 0 otherwise): a quant
//     block = s axis (-1 = per tensor), u n, f32 scale[n], s zero_point[n]
//     (real = scale * (q - zero_point)).
//  6. Ops: u count, then count recs, each
//       u type (OpType, <= 65535), u padding (Padding, <= 255),
//       u fused_activation (FusedActivation, <= 255), s kernel_h, s kernel_w, s stride_h,
//       s stride_w, s out_channels, u num_tensors, u tensor_index[num_tensors] (into section
//       7, in model order), quant block out_quant (n = 0 in float models).
//  7. Tensors: u count, then count recs, each
//       str name, u dtype (DType, <= 255), u encoding (Encoding, <= 255), u ndim (<= 8),
//       n dims[ndim] (logical shape, row-major), quant block (n = 0: not quantised),
//       u num_enc_params, u enc_params[num_enc_params] (<= 2^32 - 1 each; meaning set by the
//       encoding). No offset and no size: the payload's size is the `bytes` of section 10.
//  8. metadata_json: str (free-form provenance; not used by the runtime).
//  8a. Streaming detection (v3 only; Model::keyword_flags and Model::detector, model.h), a rec:
//       u num_flags (0 or the label count), u keyword_flag[num_flags] (0 or 1, label order;
//       num_flags = 0: every label is a keyword), n hop_ms, n smoothing_ms, f32 threshold,
//       u num_thresholds (0 or the label count), f32 thresholds[num_thresholds],
//       n min_hops, n refractory_ms, u gate (0 or 1), f32 gate_dbfs, n gate_min_speech_ms,
//       n gate_hangover_ms. Ranges: DetectorSettings::check(). A file older than v3 reads as
//       no flags and DetectorSettings{} (the defaults in model.h).
//  9. Payloads, right after section 8 (v3: 8a): tensor 0's, then tensor 1's, ..., each exactly its
//     `bytes` long, no alignment or padding between them (the reader always decodes payloads
//     into the Model; nothing uses them in place). They end where the checksum starts; a
//     reader rejects a file where they do not.
// 10. Payload encodings (every version).
//     Notation: N = numel (product of dims), E = dtype_bytes(dtype). An element's "code" is
//     its stored bit pattern: u32 for f32 (binary32) and i32, u16 for f16 (binary16), u8 for
//     i8, written little-endian in E bytes. An element is zero when its code is 0: f32/f16
//     -0.0 is a non-zero value, so every value reads back bit-identical. Every encoding below
//     applies to every dtype. Building blocks, offsets relative to the payload start:
//       pad4           zero bytes up to the next multiple of 4 bytes from the payload start
//                      (v1 payloads start at a multiple of 4, so there it is one in the file).
//       bitmap         presence bitmap, ceil(N / 8) bytes: bit i (LSB = bit 0) of byte j is 1
//                      when element 8j + i is stored, 0 when it is zero; the bits past element
//                      N - 1 in the last byte are 0.
//       codebooks      R x K codes, E bytes each: row 0's K entries, then row 1's, ...
//       indices(n, b)  n unsigned b-bit integers in one LSB-first bit stream: integer k takes
//                      stream bits [k*b, (k+1)*b), least significant bit first, and stream bit
//                      s is bit (s mod 8) of byte floor(s / 8); ceil(n*b / 8) bytes, the unused
//                      high bits of the last byte are 0. No alignment within the stream.
//                      Example, b = 3, indices 5, 2, 7, 4: stream bits 101 010 111 001 (each
//                      index LSB first) -> bytes 0xD5, 0x09 (the top 4 bits of 0x09 padding).
//     Rows: R row codebooks split the elements into R equal runs: row r covers elements
//     [r*N/R, (r+1)*N/R) (R must divide N). R = dims[0] gives one codebook per output channel,
//     as per-channel clustering and int8 per-channel quantisation of a clustered tensor make.
//     K in [1, 65536], b in [1, 16] with K <= 2^b, R >= 1 (absent = 1); nnz <= N.
//       dense            (0): enc_params = {}. N codes in element order.
//                             bytes = N*E
//       clustered        (1): enc_params = {K, b} or {K, b, R}.
//                             codebooks, pad4, indices(N, b): element i is entry index[i]
//                             (< K) of row floor(i / (N/R))'s codebook.
//                             bytes = pad4(R*K*E) + ceil(N*b / 8)
//       sparse           (2): enc_params = {nnz}.
//                             bitmap (exactly nnz bits set), pad4, then the nnz codes of the
//                             stored elements in element order. Elements not stored are 0.
//                             bytes = pad4(ceil(N / 8)) + nnz*E
//       sparse_clustered (3): enc_params = {nnz, K, b} or {nnz, K, b, R}.
//                             bitmap (exactly nnz bits set), pad4, codebooks, pad4,
//                             indices(nnz, b): the k-th stored element (element order), i, is
//                             entry index[k] (< K) of row floor(i / (N/R))'s codebook.
//                             Elements not stored are 0.
//                             bytes = pad4(ceil(N / 8)) + pad4(R*K*E) + ceil(nnz*b / 8)
//     v1's payload_bytes equals the encoding's `bytes` exactly. A reader rejects any other number
//     of enc_params, params out of range, an index >= K, a bitmap whose popcount is not nnz and
//     non-zero padding (pad4 bytes, bitmap bits past N, index bits past the last index).
//     The writer chooses per tensor (Tensor::encoding is ignored; the reader sets it): the
//     fewest payload bytes among dense, sparse, clustered and sparse_clustered, each with
//     R = 1 and, for tensors of rank >= 2 with dims[0] > 1, R = dims[0]; ties go to the
//     earlier of that list (R = 1 first). K = the most distinct codes in any row (non-zero
//     codes for sparse_clustered; a tensor needing K > 65536 is not clustered), b = the least
//     b >= 1 with K <= 2^b; each row's codebook lists the row's distinct codes (non-zero ones
//     for sparse_clustered) in ascending unsigned order, then zero codes up to K entries.
//     describe_storage() reports the choice.
// 11. u32 CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320, as zlib's crc32) of bytes
//     [0, file_bytes - 4): the last 4 bytes of the file.
//
// Format version 1 (read by this build; serialize_model(m, 1) still writes it) differs in
// sections 1-9 only; its integers are fixed-width, "str" = u32 length + bytes, and offsets are
// absolute:
//  1. Header, 64 bytes: magic, u32 format_version = 1, u32 header_bytes = 64 (readers accept
//     >= 64 and skip the rest), u32 flags = 0, u64 file_bytes, u64 payload_start (end of the
//     record area, a multiple of 32), u8[32] reserved (zero).
//  2. u32 section_bytes (>= 48), i32 sample_rate, clip_samples, frame_length, frame_step,
//     fft_length, num_mel_bins, f32 lower_hz, upper_hz, u8 kind, u8 spectrum, u8[2] reserved,
//     i32 num_mfcc, f32 log_offset, f32 pcm_divisor.
//  3./4. u32 counts; 5. quant block = i32 axis, u32 n, f32 scale[n], i32 zero_point[n].
//  6. u32 count; records = u32 record_bytes, u16 type, u8 padding, u8 fused_activation,
//     i32 kernel_h, kernel_w, stride_h, stride_w, out_channels, u32 num_tensors,
//     u32 tensor_index[], quant block.
//  7. u32 count; records = u32 record_bytes, str name, u8 dtype, u8 encoding, u8 ndim,
//     u8 reserved, i32 dims[ndim], quant block, u32 num_enc_params, u32 enc_params[],
//     u64 payload_offset (>= payload_start; a multiple of 32 for dense payloads, of 4 for the
//     others), u64 payload_bytes (= `bytes`).
//  8. metadata_json: str. 9. Zero padding up to payload_start. Payloads: the dense ones first
//     (32-aligned), then the others (4-aligned), each in tensor order, zero padding between;
//     readers check alignment and bounds, not the order.
// v2 has no offsets, sizes, reserved bytes or alignment padding and stores small integers in
// one byte: the default model of that time (session 2: 24 ops, 23 tensors) took 1,187 bytes
// outside its payloads instead of 2,919 (12,678 -> 10,946 bytes). docs/format.md has more.
//
// A reader trusts nothing: it checks the magic, version, sizes and checksum before parsing,
// bounds-checks every count, length, varint and offset, and finally runs check_model()
// (model.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/format/crc_f16.h"  // crc32, f32_to_f16, f16_to_f32
#include "tinykws/format/model.h"

namespace tkws {

inline constexpr char kTkwsMagic[4] = {'T', 'K', 'W', 'S'};
inline constexpr uint32_t kTkwsVersion = 3;        // what serialize_model writes by default
inline constexpr uint32_t kTkwsOldestVersion = 1;  // readers read [oldest, kTkwsVersion]
inline constexpr uint32_t kTkwsHeaderBytes = 16;   // v2 and v3 header
inline constexpr uint32_t kTkwsV1HeaderBytes = 64;
inline constexpr uint32_t kTkwsV1Align = 32;          // v1 dense payload alignment, bytes
inline constexpr uint32_t kTkwsV1EncodedAlign = 4;    // v1 alignment of the other encodings
inline constexpr uint32_t kTkwsV1FrontendBytes = 48;  // v1 section 2 fields
inline constexpr uint32_t kTkwsMaxRank = 8;

// Bytes of a .tkws file holding `m`, in format `version` (kTkwsVersion, or 1 / 2 for readers
// built before v2 / v3; those cannot hold keyword flags or detector settings other than the
// defaults, and such a model is refused). Deterministic: the same model gives the same bytes. Each
// tensor gets the smallest lossless encoding of its exact values (section 10); the tensors'
// `encoding` fields are not consulted. Throws std::invalid_argument if check_model(m) fails or
// `version` is unknown.
std::vector<uint8_t> serialize_model(const Model& m, uint32_t version = kTkwsVersion);

// Format version of a file image that starts with the magic (0 if it does not, or is shorter
// than 8 bytes). Does not validate anything else.
uint32_t model_format_version(const uint8_t* data, size_t size);

// Writes atomically: a temporary file in the same folder, flushed to disk, then renamed over
// `path`. Throws std::invalid_argument (bad model) or std::runtime_error (I/O).
void write_model(const std::string& path, const Model& m);

// Parses a whole file image. Throws InputError (common/error.h) whose message starts with
// "<source_name>: " and names the problem, e.g. "model.tkws: bad magic (expected TKWS,
// found 'RIFF')", "unsupported format version 7 (this build reads 1 to 3)", "checksum mismatch
// (stored 0x1234abcd, computed 0x89ab0123)". Never reads outside [data, data + size).
Model parse_model(const uint8_t* data, size_t size, const std::string& source_name);

// Reads and parses `path`; errors name the path. Throws InputError.
Model read_model(const std::string& path);

// parse_model without exceptions for bad input (for targets built without them): returns
// false and sets *error to the same message. Only std::bad_alloc can still escape.
bool try_parse_model(const uint8_t* data, size_t size, const std::string& source_name, Model* out,
                     std::string* error);

// How a tensor's payload is stored (section 10): what serialize_model chooses, and what
// `tinykws info` prints. Counts are of stored codes, so f16 values count after rounding and
// -0.0 is not a zero.
struct TensorStorage {
  Encoding encoding = Encoding::kDense;
  uint64_t payload_bytes = 0;  // section 10 bytes of this tensor (v1: alignment excluded)
  uint64_t dense_bytes = 0;    // numel * dtype_bytes: the same tensor stored dense
  uint64_t numel = 0;
  uint64_t zeros = 0;       // elements with code 0 (absent from sparse bitmaps)
  uint64_t distinct = 0;    // distinct codes in the whole tensor, 0 included if present
  uint32_t rows = 1;        // R: codebooks of a clustered encoding, else 1
  uint32_t clusters = 0;    // K: entries per codebook of a clustered encoding, else 0
  uint32_t index_bits = 0;  // b: bits per codebook index of a clustered encoding, else 0
  double sparsity() const { return numel ? static_cast<double>(zeros) / numel : 0.0; }
  double bits_per_value() const { return numel ? 8.0 * payload_bytes / numel : 0.0; }
};

// The storage serialize_model chooses for `t` (decided by exactly the same code). `t` must
// hold numel() values of its dtype (check_model); otherwise throws std::invalid_argument.
TensorStorage describe_storage(const Tensor& t);
// One entry per tensor of `m`, in tensor order. For a model read from a file written by this
// writer, entry i's encoding equals m.tensors[i].encoding and its payload_bytes the file's.
std::vector<TensorStorage> describe_storage(const Model& m);

}  // namespace tkws
