// Payload encodings of the .tkws file (internal to format/; tkws.h section 10 defines them):
// the size formulas, the enc_params of a tensor record (section 7), and payload writing and
// decoding. describe_storage (tkws.h) makes the writer's choice; encoding.cpp has all of it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/format/byte_io.h"
#include "tinykws/format/model.h"

namespace tkws {
struct TensorStorage;
}

namespace tkws::detail {

// An encoding with its params (the enc_params of section 7).
struct Layout {
  Encoding encoding = Encoding::kDense;
  uint64_t nnz = 0;                 // sparse encodings: stored elements
  uint32_t k = 0, b = 0, rows = 1;  // clustered encodings: codebook entries, index bits, rows
};

// Payload bytes of `l` for a tensor of n elements of e bytes: the `bytes` formulas of
// section 10. No overflow: n <= 2^30, rows * k <= 2^46, e <= 4.
uint64_t layout_bytes(const Layout& l, uint64_t n, uint64_t e);

// enc_params as the writer stores them (rows only when > 1).
std::vector<uint32_t> layout_params(const Layout& l);

// "clustered f16 [64][64][1][1], K = 16, b = 4, rows = 64": for size messages.
std::string layout_str(const Layout& l, const Tensor& t);

// Section 7: the encoding's params, checked against a tensor of n elements. Sets *l; returns
// "" or the problem.
std::string read_layout(Encoding enc, uint64_t n, const std::vector<uint32_t>& p, Layout* l);

// The layout describe_storage chose.
Layout storage_layout(const TensorStorage& s);

// Writes tensor t's payload as planned by describe_storage (section 10); pad4 counts from the
// payload start.
void write_payload(ByteWriter& w, const Tensor& t, const TensorStorage& s);

// Decodes tensor t's payload p[0, bytes) laid out as `l` (bytes == layout_bytes, checked with
// the record, so every read stays inside it). Sets t's values; returns "" or the problem.
// Memory: numel values, at most 32x the payload (one bitmap or index bit per f32).
std::string decode_payload(const uint8_t* p, uint64_t bytes, const Layout& l, Tensor* t);

}  // namespace tkws::detail
