// Section 10 of tkws.h: the payload encodings (dense, sparse, clustered, sparse_clustered), the
// writer's choice among them (describe_storage) and the bounds-checked decoder. Every dtype goes
// through its elements' codes (stored bit patterns: u32 for f32 / i32, u16 for f16, u8 for i8);
// code 0 is the only zero. Tested in tests/format/encoding_test.cpp and
// encoding_damage_test.cpp.
#include "tinykws/format/encoding.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

#include "tinykws/format/crc_f16.h"
#include "tinykws/format/tkws.h"

namespace tkws {
namespace detail {
namespace {

constexpr uint32_t kMaxClusters = 65536;  // K
constexpr uint32_t kMaxIndexBits = 16;    // b

uint64_t pad4(uint64_t n) {
  return (n + 3) & ~uint64_t{3};
}
uint64_t bitmap_bytes(uint64_t numel) {
  return (numel + 7) / 8;
}
// The least b >= 1 with k <= 2^b.
uint32_t index_bits_for(uint64_t k) {
  uint32_t b = 1;
  while ((uint64_t{1} << b) < k) ++b;
  return b;
}
bool is_clustered(Encoding e) {
  return e == Encoding::kClustered || e == Encoding::kSparseClustered;
}
bool is_sparse(Encoding e) {
  return e == Encoding::kSparse || e == Encoding::kSparseClustered;
}

// Codes of a tensor's values (check_model-valid: numel values of its dtype).
std::vector<uint32_t> tensor_codes(const Tensor& t) {
  std::vector<uint32_t> c;
  switch (t.dtype) {
    case DType::kF32:
      c.resize(t.f32.size());
      if (!c.empty()) std::memcpy(c.data(), t.f32.data(), 4 * c.size());
      break;
    case DType::kF16:
      for (float v : t.f32) c.push_back(f32_to_f16(v));
      break;
    case DType::kI8:
      for (int8_t v : t.i8) c.push_back(static_cast<uint8_t>(v));
      break;
    case DType::kI32:
      for (int32_t v : t.i32) c.push_back(static_cast<uint32_t>(v));
      break;
  }
  return c;
}

uint32_t ld_code(const uint8_t* p, size_t e) {
  return e == 4 ? ld_u32(p) : e == 2 ? uint32_t{p[0]} | uint32_t{p[1]} << 8 : p[0];
}

void put_code(ByteWriter& w, uint32_t code, size_t e) {
  if (e == 4)
    w.u32(code);
  else if (e == 2)
    w.u16(static_cast<uint16_t>(code));
  else
    w.u8(static_cast<uint8_t>(code));
}

// Element values from codes, written in place: resize() once, then set(i, code).
class ValueSink {
 public:
  explicit ValueSink(Tensor* t) : t_(t) {}
  void resize(size_t n) {
    switch (t_->dtype) {
      case DType::kF32:
      case DType::kF16:
        t_->f32.assign(n, 0.0f);
        break;
      case DType::kI8:
        t_->i8.assign(n, 0);
        break;
      case DType::kI32:
        t_->i32.assign(n, 0);
        break;
    }
  }
  void set(size_t i, uint32_t code) {
    switch (t_->dtype) {
      case DType::kF32:
        std::memcpy(&t_->f32[i], &code, 4);
        break;
      case DType::kF16:
        t_->f32[i] = f16_to_f32(static_cast<uint16_t>(code));
        break;
      case DType::kI8:
        t_->i8[i] = static_cast<int8_t>(static_cast<uint8_t>(code));
        break;
      case DType::kI32:
        t_->i32[i] = static_cast<int32_t>(code);
        break;
    }
  }

 private:
  Tensor* t_;
};

// b-bit integer at stream bit `bit` (LSB-first, b <= 16), reading only bytes [0, size).
uint32_t ld_bits(const uint8_t* s, size_t size, uint64_t bit, uint32_t b) {
  const size_t at = static_cast<size_t>(bit >> 3);
  uint32_t v = 0;
  for (size_t k = 0; k < 3 && at + k < size; ++k) v |= uint32_t{s[at + k]} << (8 * k);
  return (v >> (bit & 7)) & ((uint32_t{1} << b) - 1);
}

// The most distinct codes any of `rows` equal runs of `codes` holds, with and without 0.
struct RowDistinct {
  uint64_t all = 0, nonzero = 0;
};
RowDistinct max_distinct(const std::vector<uint32_t>& codes, size_t rows) {
  RowDistinct d;
  const size_t len = codes.size() / rows;
  std::vector<uint32_t> row;
  for (size_t r = 0; r < rows; ++r) {
    row.assign(codes.begin() + static_cast<ptrdiff_t>(r * len),
               codes.begin() + static_cast<ptrdiff_t>((r + 1) * len));
    std::sort(row.begin(), row.end());
    const uint64_t all = static_cast<uint64_t>(std::unique(row.begin(), row.end()) - row.begin());
    d.all = std::max(d.all, all);
    d.nonzero = std::max(d.nonzero, all - (row[0] == 0 ? 1 : 0));
  }
  return d;
}

}  // namespace

uint64_t layout_bytes(const Layout& l, uint64_t n, uint64_t e) {
  const uint64_t bitmap = is_sparse(l.encoding) ? pad4(bitmap_bytes(n)) : 0;
  switch (l.encoding) {
    case Encoding::kDense:
      return n * e;
    case Encoding::kSparse:
      return bitmap + l.nnz * e;
    case Encoding::kClustered:
    case Encoding::kSparseClustered: {
      const uint64_t indices = is_sparse(l.encoding) ? l.nnz : n;
      return bitmap + pad4(uint64_t{l.rows} * l.k * e) + (indices * l.b + 7) / 8;
    }
  }
  return 0;
}

std::vector<uint32_t> layout_params(const Layout& l) {
  std::vector<uint32_t> p;
  if (is_sparse(l.encoding)) p.push_back(ByteWriter::checked_u32(l.nnz));
  if (is_clustered(l.encoding)) {
    p.push_back(l.k), p.push_back(l.b);
    if (l.rows > 1) p.push_back(l.rows);
  }
  return p;
}

std::string layout_str(const Layout& l, const Tensor& t) {
  std::string s =
      std::string(encoding_name(l.encoding)) + " " + dtype_name(t.dtype) + " " + dims_str(t.shape);
  if (is_sparse(l.encoding)) s += ", nnz = " + std::to_string(l.nnz);
  if (is_clustered(l.encoding))
    s += ", K = " + std::to_string(l.k) + ", b = " + std::to_string(l.b) +
         ", rows = " + std::to_string(l.rows);
  return s;
}

std::string read_layout(Encoding enc, uint64_t n, const std::vector<uint32_t>& p, Layout* l) {
  const std::string found = ", found " + std::to_string(p.size());
  *l = Layout{};
  l->encoding = enc;
  switch (enc) {
    case Encoding::kDense:
      if (!p.empty()) return "expected 0 params for dense encoding" + found;
      return {};
    case Encoding::kSparse:
      if (p.size() != 1) return "expected 1 param {nnz} for sparse encoding" + found;
      l->nnz = p[0];
      break;
    case Encoding::kClustered:
      if (p.size() != 2 && p.size() != 3)
        return "expected 2 or 3 params {K, b[, rows]} for clustered encoding" + found;
      l->k = p[0], l->b = p[1], l->rows = p.size() == 3 ? p[2] : 1;
      break;
    case Encoding::kSparseClustered:
      if (p.size() != 3 && p.size() != 4)
        return "expected 3 or 4 params {nnz, K, b[, rows]} for sparse_clustered encoding" + found;
      l->nnz = p[0], l->k = p[1], l->b = p[2], l->rows = p.size() == 4 ? p[3] : 1;
      break;
  }
  const std::string where = std::string(encoding_name(enc)) + " encoding: ";
  if (l->nnz > n)
    return where + "expected nnz <= numel = " + std::to_string(n) + ", found " +
           std::to_string(l->nnz);
  if (!is_clustered(enc)) return {};
  if (l->k < 1 || l->k > kMaxClusters)
    return where + "expected K (codebook entries) in [1, " + std::to_string(kMaxClusters) +
           "], found " + std::to_string(l->k);
  if (l->b < 1 || l->b > kMaxIndexBits)
    return where + "expected b (index bits) in [1, " + std::to_string(kMaxIndexBits) + "], found " +
           std::to_string(l->b);
  if (l->k > (uint32_t{1} << l->b))
    return where + "expected K <= 2^b = " + std::to_string(uint32_t{1} << l->b) +
           ", found K = " + std::to_string(l->k) + " with b = " + std::to_string(l->b);
  if (l->rows < 1 || n % l->rows != 0)
    return where + "expected rows >= 1 dividing numel = " + std::to_string(n) + ", found " +
           std::to_string(l->rows);
  return {};
}

Layout storage_layout(const TensorStorage& s) {
  Layout l;
  l.encoding = s.encoding;
  l.nnz = s.numel - s.zeros;
  l.k = s.clusters, l.b = s.index_bits, l.rows = s.rows;
  return l;
}

void write_payload(ByteWriter& w, const Tensor& t, const TensorStorage& s) {
  const std::vector<uint32_t> codes = tensor_codes(t);
  const size_t e = dtype_bytes(t.dtype), n = codes.size(), start = w.b.size();
  const bool sparse = is_sparse(s.encoding);
  if (sparse) {
    std::vector<uint8_t> bitmap(bitmap_bytes(n), 0);
    for (size_t i = 0; i < n; ++i)
      if (codes[i] != 0) bitmap[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
    w.b.insert(w.b.end(), bitmap.begin(), bitmap.end());
    w.pad_from(start, 4);
  }
  if (!is_clustered(s.encoding)) {
    for (uint32_t c : codes)
      if (c != 0 || !sparse) put_code(w, c, e);
  } else {
    // Per row: the sorted distinct codes (without 0 when sparse) are its codebook.
    const size_t rows = s.rows, len = n / rows, k = s.clusters;
    std::vector<uint32_t> books(rows * k, 0), index, row;
    index.reserve(n);
    for (size_t r = 0; r < rows; ++r) {
      const auto first = codes.begin() + static_cast<ptrdiff_t>(r * len), last = first + len;
      row.assign(first, last);
      if (sparse) row.erase(std::remove(row.begin(), row.end(), 0u), row.end());
      std::sort(row.begin(), row.end());
      row.erase(std::unique(row.begin(), row.end()), row.end());
      if (row.size() > k) throw std::logic_error("tkws: codebook of row exceeds K");
      std::copy(row.begin(), row.end(), books.begin() + static_cast<ptrdiff_t>(r * k));
      for (auto it = first; it != last; ++it)
        if (*it != 0 || !sparse)
          index.push_back(
              static_cast<uint32_t>(std::lower_bound(row.begin(), row.end(), *it) - row.begin()));
    }
    for (uint32_t c : books) put_code(w, c, e);
    w.pad_from(start, 4);
    uint64_t acc = 0;  // LSB-first bit stream: at most 7 + 16 pending bits
    uint32_t pending = 0;
    for (uint32_t v : index) {
      acc |= uint64_t{v} << pending;
      pending += s.index_bits;
      for (; pending >= 8; pending -= 8, acc >>= 8) w.u8(static_cast<uint8_t>(acc));
    }
    if (pending > 0) w.u8(static_cast<uint8_t>(acc));
  }
  if (w.b.size() - start != s.payload_bytes)
    throw std::logic_error("tkws: tensor '" + t.name + "': wrote " +
                           std::to_string(w.b.size() - start) + " payload bytes, planned " +
                           std::to_string(s.payload_bytes));
}

std::string decode_payload(const uint8_t* p, uint64_t bytes, const Layout& l, Tensor* t) {
  const size_t e = dtype_bytes(t->dtype), n = t->numel();
  const bool sparse = is_sparse(l.encoding);
  const std::string what = std::string(encoding_name(l.encoding)) + " payload: ";
  size_t pos = 0;
  auto pad4_ok = [&] {
    for (; pos % 4 != 0; ++pos)
      if (p[pos] != 0) return false;
    return true;
  };
  auto bad_pad = [&] {
    return what + "non-zero padding byte at payload byte " + std::to_string(pos) + " (of " +
           std::to_string(bytes) + ")";
  };
  const uint8_t* bitmap = p;
  if (sparse) {
    const size_t nb = bitmap_bytes(n);
    uint64_t set = 0;
    for (size_t j = 0; j < nb; ++j) set += static_cast<uint64_t>(std::popcount(bitmap[j]));
    if (n % 8 != 0 && (bitmap[nb - 1] >> (n % 8)) != 0)
      return what +
             "presence bitmap has bits set past the last element (numel = " + std::to_string(n) +
             ")";
    if (set != l.nnz)
      return what + "presence bitmap has " + std::to_string(set) +
             " bits set, expected nnz = " + std::to_string(l.nnz);
    pos = nb;
    if (!pad4_ok()) return bad_pad();
  }
  auto stored = [&](size_t i) { return !sparse || ((bitmap[i >> 3] >> (i & 7)) & 1) != 0; };
  ValueSink out(t);
  out.resize(n);
  if (!is_clustered(l.encoding)) {
    for (size_t i = 0; i < n; ++i) {
      if (!stored(i)) continue;
      out.set(i, ld_code(p + pos, e));
      pos += e;
    }
  } else {
    const size_t entries = size_t{l.rows} * l.k, len = n / l.rows;
    std::vector<uint32_t> books(entries);
    for (size_t j = 0; j < entries; ++j) books[j] = ld_code(p + pos + j * e, e);
    pos += entries * e;
    if (!pad4_ok()) return bad_pad();
    const uint8_t* stream = p + pos;
    const size_t stream_bytes = static_cast<size_t>(((sparse ? l.nnz : n) * l.b + 7) / 8);
    uint64_t bit = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!stored(i)) continue;
      const uint32_t index = ld_bits(stream, stream_bytes, bit, l.b);
      bit += l.b;
      if (index >= l.k)
        return what + "element " + std::to_string(i) + " has codebook index " +
               std::to_string(index) + ", expected < K = " + std::to_string(l.k);
      out.set(i, books[(i / len) * l.k + index]);
    }
    pos += stream_bytes;
    if (bit % 8 != 0 && (stream[stream_bytes - 1] >> (bit % 8)) != 0)
      return what + "non-zero padding bits after the last index";
  }
  if (pos != bytes)  // not reached: the size was checked against the params
    return what + "decoded " + std::to_string(pos) + " bytes, expected " + std::to_string(bytes);
  return {};
}

}  // namespace detail

using namespace detail;

TensorStorage describe_storage(const Tensor& t) {
  const size_t e = dtype_bytes(t.dtype), n = t.numel();
  const size_t have = t.dtype == DType::kI8    ? t.i8.size()
                      : t.dtype == DType::kI32 ? t.i32.size()
                                               : t.f32.size();
  if (e == 0 || n == 0 || have != n)
    throw std::invalid_argument("describe_storage: tensor '" + t.name + "': expected " +
                                std::to_string(n) + " values of dtype " + dtype_name(t.dtype) +
                                " for shape " + dims_str(t.shape) + ", found " +
                                std::to_string(have));
  const std::vector<uint32_t> codes = tensor_codes(t);
  TensorStorage s;
  s.numel = n;
  s.dense_bytes = s.payload_bytes = uint64_t{n} * e;
  s.zeros = static_cast<uint64_t>(std::count(codes.begin(), codes.end(), 0u));
  const uint64_t nnz = n - s.zeros;
  // Candidates in tie-break order (tkws.h, section 10); strictly smaller wins.
  auto consider = [&](const Layout& l) {
    const uint64_t bytes = layout_bytes(l, n, e);
    if (bytes >= s.payload_bytes) return;
    s.encoding = l.encoding, s.payload_bytes = bytes;
    s.rows = l.rows, s.clusters = l.k, s.index_bits = l.b;
  };
  consider({Encoding::kSparse, nnz});
  std::vector<uint32_t> rows = {1};
  if (t.shape.size() >= 2 && t.shape[0] > 1) rows.push_back(static_cast<uint32_t>(t.shape[0]));
  std::vector<RowDistinct> distinct;
  for (uint32_t r : rows) distinct.push_back(max_distinct(codes, r));
  s.distinct = distinct[0].all;
  for (size_t i = 0; i < rows.size(); ++i) {
    const uint64_t k = distinct[i].all;
    if (k <= kMaxClusters)
      consider({Encoding::kClustered, 0, static_cast<uint32_t>(k), index_bits_for(k), rows[i]});
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const uint64_t k = distinct[i].nonzero;
    if (nnz > 0 && k <= kMaxClusters)
      consider(
          {Encoding::kSparseClustered, nnz, static_cast<uint32_t>(k), index_bits_for(k), rows[i]});
  }
  return s;
}

std::vector<TensorStorage> describe_storage(const Model& m) {
  std::vector<TensorStorage> v;
  v.reserve(m.tensors.size());
  for (const Tensor& t : m.tensors) v.push_back(describe_storage(t));
  return v;
}

}  // namespace tkws
