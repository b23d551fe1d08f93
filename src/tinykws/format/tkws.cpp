// .tkws reader and writer. The layout is defined in tkws.h (sections numbered 1-11 there; the
// comments below refer to those numbers). Standard library only (plus POSIX fsync when
// available) so format/ also builds for a small board.
#include "tinykws/format/tkws.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "tinykws/common/error.h"

#if __has_include(<unistd.h>) && __has_include(<fcntl.h>) && __has_include(<sys/stat.h>)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define TKWS_HAVE_POSIX 1
#endif

namespace tkws {

// The front-end section (2) lists every FrontendConfig field by hand. If this fires, a field
// was added or changed: append it to section 2 in write_frontend() and read_frontend() below
// (v2 only: the section is sized, so older readers skip it; v1 files keep their 48 bytes).
static_assert(sizeof(FrontendConfig) == 52, "FrontendConfig changed: update .tkws section 2");
// Same tripwire for the other structs the file stores field by field (64-bit hosts, where the
// sizes below were measured): a new field must be written and read here too (sections 5-7).
#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu && defined(__GLIBCXX__)
static_assert(sizeof(QuantParams) == 56, "QuantParams changed: update .tkws quant blocks");
static_assert(sizeof(Op) == 120, "Op changed: update .tkws section 6 (op records)");
static_assert(sizeof(Tensor) == 200, "Tensor changed: update .tkws section 7 (tensor records)");
static_assert(sizeof(Model) == 264 + 24 + sizeof(DetectorSettings),
              "Model changed: update .tkws sections 2-8a");
static_assert(sizeof(DetectorSettings) == 64, "DetectorSettings changed: update section 8a");
#endif

// ---------------------------------------------------------------------------------------------
// CRC-32, IEEE 802.3 (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF).
namespace {
constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();
}  // namespace

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = kCrcTable[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// ---------------------------------------------------------------------------------------------
// IEEE binary16 conversion (bit manipulation; no F16C dependency).
uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t exp = (x >> 23) & 0xFFu;
  uint32_t mant = x & 0x7FFFFFu;
  if (exp == 0xFF) return static_cast<uint16_t>(sign | 0x7C00u | (mant ? 0x200u : 0));  // inf/NaN
  const int32_t e = static_cast<int32_t>(exp) - 127 + 15;
  if (e >= 0x1F) return static_cast<uint16_t>(sign | 0x7C00u);  // overflow -> inf
  if (e <= 0) {                                                 // subnormal or zero
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;  // may carry into exponent: correct
  return static_cast<uint16_t>(sign | h);
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, x;
  if (exp == 0x1F) {
    x = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {
    x = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    x = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while (!(mant & 0x400u));
    x = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Little-endian byte helpers.
uint32_t ld_u32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t ld_u64(const uint8_t* p) {
  return ld_u32(p) | uint64_t{ld_u32(p + 4)} << 32;
}
float ld_f32(const uint8_t* p) {
  const uint32_t v = ld_u32(p);
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}

// Writer of sections 1-11. `v1` selects the fixed-width integers of format version 1; the
// field methods below (len, sint, nat, code8, code16, word, str, rec) write the same field in
// either version (tkws.h: u / s / n / str / rec in v2, the v1 widths in their comments).
class ByteWriter {
 public:
  explicit ByteWriter(bool v1) : v1(v1) {}
  std::vector<uint8_t> b;
  bool v1;
  void u8(uint8_t v) { b.push_back(v); }
  void u16(uint16_t v) { u8(v & 0xFF), u8(v >> 8); }
  void u32(uint32_t v) { u16(v & 0xFFFF), u16(v >> 16); }
  void u64(uint64_t v) { u32(static_cast<uint32_t>(v)), u32(static_cast<uint32_t>(v >> 32)); }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void f32(float v) {
    uint32_t x;
    std::memcpy(&x, &v, 4);
    u32(x);
  }
  // Unsigned LEB128.
  void uvar(uint64_t v) {
    for (; v >= 0x80; v >>= 7) u8(static_cast<uint8_t>(v | 0x80));
    u8(static_cast<uint8_t>(v));
  }
  // A count, length or record size: v1 u32, v2 u.
  void len(size_t n) { v1 ? u32(checked_u32(n)) : uvar(checked_u32(n)); }
  // A signed i32: v1 i32, v2 s (zigzag).
  void sint(int32_t v) {
    v1 ? i32(v) : uvar((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
  }
  // An i32 that check_model keeps >= 0 (dims, front-end sizes): v1 i32, v2 n.
  void nat(int32_t v) {
    if (v < 0) throw std::logic_error("tkws: negative value for an unsigned field");
    v1 ? i32(v) : uvar(static_cast<uint32_t>(v));
  }
  // Enum values: v1 u8 / u16, v2 u.
  void code8(uint8_t v) { v1 ? u8(v) : uvar(v); }
  void code16(uint16_t v) { v1 ? u16(v) : uvar(v); }
  // A u32 value (tensor index, enc param): v1 u32, v2 u.
  void word(uint32_t v) { v1 ? u32(v) : uvar(v); }
  void str(const std::string& s) {
    len(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
  // A record (or sized section) written into `r`: its size, then its bytes.
  void rec(const ByteWriter& r) {
    len(r.b.size());
    b.insert(b.end(), r.b.begin(), r.b.end());
  }
  void pad_to(size_t align) {
    while (b.size() % align) u8(0);
  }
  // Zero bytes up to a multiple of `align` bytes from position `start`.
  void pad_from(size_t start, size_t align) {
    while ((b.size() - start) % align) u8(0);
  }
  void patch_u32(size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) b[at + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  void patch_u64(size_t at, uint64_t v) {
    patch_u32(at, static_cast<uint32_t>(v)), patch_u32(at + 4, static_cast<uint32_t>(v >> 32));
  }
  static uint32_t checked_u32(size_t n) {
    if (n > UINT32_MAX) throw std::invalid_argument("serialize_model: field exceeds 4 GiB");
    return static_cast<uint32_t>(n);
  }
};

// ---------------------------------------------------------------------------------------------
// Reader: a cursor over [pos, end) with a sticky first error. Reads past `end` return zero and
// record "truncated: ..."; callers check ok() before trusting a count or allocating. `v1`
// selects the field widths as in ByteWriter.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t pos, size_t end, std::string* err, const char* limit_name,
         bool v1)
      : d_(data), pos_(pos), end_(end), err_(err), limit_name_(limit_name), v1_(v1) {}

  bool ok() const { return err_->empty(); }
  bool v1() const { return v1_; }
  size_t pos() const { return pos_; }
  size_t end() const { return end_; }
  size_t remaining() const { return end_ - pos_; }
  void set_what(std::string what) { what_ = std::move(what); }

  bool fail(const std::string& msg) {
    if (err_->empty()) *err_ = msg;
    return false;
  }
  bool need(size_t n) {
    if (!ok()) return false;
    if (n <= remaining()) return true;
    return fail("truncated: " + what_ + " needs " + std::to_string(n) + " bytes at offset " +
                std::to_string(pos_) + ", " + limit_name_ + " ends at byte " +
                std::to_string(end_));
  }
  const uint8_t* take(size_t n) {
    if (!need(n)) return nullptr;
    const uint8_t* p = d_ + pos_;
    pos_ += n;
    return p;
  }
  uint8_t u8() {
    const uint8_t* p = take(1);
    return p ? *p : 0;
  }
  uint16_t u16() {
    const uint8_t* p = take(2);
    return p ? static_cast<uint16_t>(p[0] | p[1] << 8) : 0;
  }
  uint32_t u32() {
    const uint8_t* p = take(4);
    return p ? ld_u32(p) : 0;
  }
  uint64_t u64() {
    const uint8_t* p = take(8);
    return p ? ld_u64(p) : 0;
  }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  float f32() {
    const uint8_t* p = take(4);
    return p ? ld_f32(p) : 0.0f;
  }
  // Unsigned LEB128 (v2): at most 10 bytes, minimal, value <= max; 0 after an error.
  uint64_t uvar(uint64_t max) {
    const size_t at = pos_;
    uint64_t v = 0;
    for (int k = 0;; ++k) {
      const uint8_t* p = take(1);
      if (!p) return 0;
      if (k == 9 && *p > 1) {  // bit 63 is the last one a 10th byte can hold
        fail(what_ + ": varint at offset " + std::to_string(at) + " exceeds 64 bits");
        return 0;
      }
      v |= uint64_t{*p & 0x7Fu} << (7 * k);
      if (*p & 0x80) continue;
      if (k > 0 && *p == 0) {
        fail(what_ + ": varint at offset " + std::to_string(at) +
             " is not minimal (its last byte is 0x00)");
        return 0;
      }
      break;
    }
    if (v > max) {
      fail(what_ + ": expected a value <= " + std::to_string(max) + ", found " + std::to_string(v) +
           " (varint at offset " + std::to_string(at) + ")");
      return 0;
    }
    return v;
  }
  // The field kinds of ByteWriter, read back.
  uint32_t len() { return v1_ ? u32() : static_cast<uint32_t>(uvar(UINT32_MAX)); }
  int32_t sint() {
    if (v1_) return i32();
    const uint32_t z = static_cast<uint32_t>(uvar(UINT32_MAX));
    return static_cast<int32_t>((z >> 1) ^ (0u - (z & 1)));
  }
  int32_t nat() { return v1_ ? i32() : static_cast<int32_t>(uvar(INT32_MAX)); }
  uint8_t code8() { return v1_ ? u8() : static_cast<uint8_t>(uvar(0xFF)); }
  uint16_t code16() { return v1_ ? u16() : static_cast<uint16_t>(uvar(0xFFFF)); }
  uint32_t word() { return v1_ ? u32() : static_cast<uint32_t>(uvar(UINT32_MAX)); }
  std::string str() {
    const uint32_t n = len();
    const uint8_t* p = take(n);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
  }
  // A count of items of at least `min_item_bytes` each: rejected before anything is allocated
  // if the remaining bytes cannot hold that many.
  uint32_t count(size_t min_item_bytes) {
    const uint32_t n = len();
    if (ok() && n > remaining() / min_item_bytes)
      fail("truncated: " + what_ + " count " + std::to_string(n) + " needs at least " +
           std::to_string(static_cast<uint64_t>(n) * min_item_bytes) + " bytes at offset " +
           std::to_string(pos_) + ", " + limit_name_ + " ends at byte " + std::to_string(end_));
    return ok() ? n : 0;
  }
  std::vector<float> f32s(uint32_t n) {
    std::vector<float> v;
    if (const uint8_t* p = take(size_t{n} * 4)) {
      v.resize(n);
      for (uint32_t i = 0; i < n; ++i) v[i] = ld_f32(p + 4 * i);
    }
    return v;
  }
  // A cursor over the next n bytes (after need(n)); this cursor moves past them. The two share
  // the error string.
  Cursor sub(size_t n, const char* limit_name) {
    if (!need(n)) return Cursor(d_, pos_, pos_, err_, limit_name, v1_);
    Cursor r(d_, pos_, pos_ + n, err_, limit_name, v1_);
    r.what_ = what_;
    pos_ += n;
    return r;
  }

 private:
  const uint8_t* d_;
  size_t pos_, end_;
  std::string* err_;
  const char* limit_name_;
  bool v1_;
  std::string what_;
};

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

std::string dims_str(const std::vector<int32_t>& d) {
  std::string s;
  for (int32_t v : d) {
    s += '[';
    s += std::to_string(v);
    s += ']';
  }
  return s;
}

// Quant block (sections 5, 6, 7): s axis, u n, f32 scale[n], s zero_point[n] (v1: i32, u32).
void write_quant(ByteWriter& w, const QuantParams& q) {
  if (q.zero_point.size() != q.scale.size())
    throw std::invalid_argument("serialize_model: quant params with " +
                                std::to_string(q.scale.size()) + " scales and " +
                                std::to_string(q.zero_point.size()) + " zero points");
  w.sint(q.axis);
  w.len(q.scale.size());
  for (float v : q.scale) w.f32(v);
  for (int32_t z : q.zero_point) w.sint(z);
}

void read_quant(Cursor& c, QuantParams* q) {
  q->axis = c.sint();
  const uint32_t n = c.count(c.v1() ? 8 : 5);  // f32 scale + zero point
  q->scale = c.f32s(n);
  q->zero_point.clear();
  for (uint32_t k = 0; k < n && c.ok(); ++k) q->zero_point.push_back(c.sint());
}

// Section 2: a sized section (v1: u32 section_bytes >= 48 and two reserved bytes).
void write_frontend(ByteWriter& w, const FrontendConfig& f) {
  ByteWriter s(w.v1);
  s.nat(f.sample_rate), s.nat(f.clip_samples), s.nat(f.frame_length), s.nat(f.frame_step);
  s.nat(f.fft_length), s.nat(f.num_mel_bins), s.f32(f.lower_hz), s.f32(f.upper_hz);
  s.code8(static_cast<uint8_t>(f.kind)), s.code8(static_cast<uint8_t>(f.spectrum));
  if (s.v1) s.u8(0), s.u8(0);
  s.sint(f.num_mfcc), s.f32(f.log_offset), s.f32(f.pcm_divisor);
  if (s.v1 && s.b.size() != kTkwsV1FrontendBytes) throw std::logic_error("tkws: section 2 size");
  w.rec(s);
}

void read_frontend(Cursor& c, FrontendConfig* f) {
  c.set_what("front-end section");
  const uint32_t n = c.len();
  if (c.ok() && c.v1() && n < kTkwsV1FrontendBytes)
    c.fail("front-end section: expected at least " + std::to_string(kTkwsV1FrontendBytes) +
           " bytes, found " + std::to_string(n));
  Cursor s = c.sub(n, "its section");
  f->sample_rate = s.nat(), f->clip_samples = s.nat(), f->frame_length = s.nat();
  f->frame_step = s.nat(), f->fft_length = s.nat(), f->num_mel_bins = s.nat();
  f->lower_hz = s.f32(), f->upper_hz = s.f32();
  f->kind = static_cast<FeatureKind>(s.code8());
  f->spectrum = static_cast<SpectrumKind>(s.code8());
  if (s.v1()) s.u8(), s.u8();
  f->num_mfcc = s.sint(), f->log_offset = s.f32(), f->pcm_divisor = s.f32();
}

// Section 8a (v3): keyword flags and detector defaults, one rec. Ranges are check_model's.
void write_detector(ByteWriter& w, const Model& m) {
  ByteWriter r(false);
  const DetectorSettings& d = m.detector;
  r.len(m.keyword_flags.size());
  for (uint8_t f : m.keyword_flags) r.code8(f);
  r.nat(d.hop_ms), r.nat(d.smoothing_ms), r.f32(d.threshold);
  r.len(d.thresholds.size());
  for (float t : d.thresholds) r.f32(t);
  r.nat(d.min_hops), r.nat(d.refractory_ms);
  r.code8(d.gate ? 1 : 0), r.f32(d.gate_dbfs), r.nat(d.gate_min_speech_ms);
  r.nat(d.gate_hangover_ms);
  w.rec(r);
}

void read_detector(Cursor& c, Model* m) {
  c.set_what("detector section");
  const uint32_t n = c.len();
  Cursor r = c.sub(n, "its section");
  DetectorSettings& d = m->detector;
  r.set_what("detector section keyword_flags");
  const uint32_t nf = r.count(1);
  for (uint32_t i = 0; i < nf && r.ok(); ++i) m->keyword_flags.push_back(r.code8());
  r.set_what("detector section");
  d.hop_ms = r.nat(), d.smoothing_ms = r.nat(), d.threshold = r.f32();
  r.set_what("detector section thresholds");
  d.thresholds = r.f32s(r.count(4));
  r.set_what("detector section");
  d.min_hops = r.nat(), d.refractory_ms = r.nat();
  const uint8_t gate = r.code8();
  d.gate_dbfs = r.f32(), d.gate_min_speech_ms = r.nat(), d.gate_hangover_ms = r.nat();
  if (r.ok() && gate > 1)
    r.fail("detector section: gate: expected 0 or 1, found " + std::to_string(gate));
  d.gate = gate == 1;
}

// ---------------------------------------------------------------------------------------------
// Section 10: payload encodings. Every dtype goes through its elements' codes (stored bit
// patterns: u32 for f32 / i32, u16 for f16, u8 for i8); code 0 is the only zero.
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

// An encoding with its params (the enc_params of section 7).
struct Layout {
  Encoding encoding = Encoding::kDense;
  uint64_t nnz = 0;                 // sparse encodings: stored elements
  uint32_t k = 0, b = 0, rows = 1;  // clustered encodings: codebook entries, index bits, rows
};

// Payload bytes of `l` for a tensor of n elements of e bytes: the `bytes` formulas of
// section 10. No overflow: n <= 2^30, rows * k <= 2^46, e <= 4.
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

// enc_params as the writer stores them (rows only when > 1).
std::vector<uint32_t> layout_params(const Layout& l) {
  std::vector<uint32_t> p;
  if (is_sparse(l.encoding)) p.push_back(ByteWriter::checked_u32(l.nnz));
  if (is_clustered(l.encoding)) {
    p.push_back(l.k), p.push_back(l.b);
    if (l.rows > 1) p.push_back(l.rows);
  }
  return p;
}

// "clustered f16 [64][64][1][1], K = 16, b = 4, rows = 64": for size messages.
std::string layout_str(const Layout& l, const Tensor& t) {
  std::string s =
      std::string(encoding_name(l.encoding)) + " " + dtype_name(t.dtype) + " " + dims_str(t.shape);
  if (is_sparse(l.encoding)) s += ", nnz = " + std::to_string(l.nnz);
  if (is_clustered(l.encoding))
    s += ", K = " + std::to_string(l.k) + ", b = " + std::to_string(l.b) +
         ", rows = " + std::to_string(l.rows);
  return s;
}

// Section 7: the encoding's params, checked against a tensor of n elements. Sets *l; returns
// "" or the problem.
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

Layout storage_layout(const TensorStorage& s) {
  Layout l;
  l.encoding = s.encoding;
  l.nnz = s.numel - s.zeros;
  l.k = s.clusters, l.b = s.index_bits, l.rows = s.rows;
  return l;
}

// Writes tensor t's payload as planned by describe_storage (section 10); pad4 counts from the
// payload start.
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

// Decodes tensor t's payload p[0, bytes) laid out as `l` (bytes == layout_bytes, checked with
// the record, so every read below stays inside it). Sets t's values; returns "" or the
// problem. Memory: numel values, at most 32x the payload (one bitmap or index bit per f32).
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

// Where a tensor's payload lives and how it is laid out; filled while reading section 7,
// used for section 10.
struct PayloadRef {
  uint64_t offset = 0, bytes = 0;
  Layout layout;
};

// Sections 6 and 7: each record is read through a sub-cursor limited to its record_bytes, so
// a record never reads its neighbour, and bytes a newer writer appended are skipped.
void read_op(Cursor& c, size_t index, Op* op) {
  const std::string what = "op " + std::to_string(index);
  c.set_what(what + " record");
  const uint32_t n = c.len();
  Cursor r = c.sub(n, "its record");
  const uint16_t type = r.code16();
  op->padding = static_cast<Padding>(r.code8());
  op->fused_activation = static_cast<FusedActivation>(r.code8());
  op->kernel_h = r.sint(), op->kernel_w = r.sint(), op->stride_h = r.sint();
  op->stride_w = r.sint(), op->out_channels = r.sint();
  r.set_what(what + " tensor list");
  const uint32_t nt = r.count(r.v1() ? 4 : 1);
  for (uint32_t k = 0; k < nt && r.ok(); ++k) op->tensors.push_back(r.word());
  r.set_what(what + " out_quant");
  read_quant(r, &op->out_quant);
  if (!r.ok()) return;
  if (type == 0 || type >= static_cast<uint16_t>(OpType::kCount)) {
    r.fail(what + ": unknown op type " + std::to_string(type) + " (this build knows 1.." +
           std::to_string(static_cast<int>(OpType::kCount) - 1) + ")");
    return;
  }
  op->type = static_cast<OpType>(type);
  if (op->padding != Padding::kValid && op->padding != Padding::kSame)
    r.fail(what + " (" + op_name(op->type) + "): unknown padding " +
           std::to_string(static_cast<int>(op->padding)));
  else if (op->fused_activation != FusedActivation::kNone &&
           op->fused_activation != FusedActivation::kRelu)
    r.fail(what + " (" + op_name(op->type) + "): unknown fused activation " +
           std::to_string(static_cast<int>(op->fused_activation)));
}

// v1 records end with the payload's offset and size, checked against [payload_start,
// data_end); v2 records have neither (ref->offset is set after section 8).
void read_tensor(Cursor& c, size_t index, uint64_t payload_start, uint64_t data_end, Tensor* t,
                 PayloadRef* ref) {
  std::string what = "tensor " + std::to_string(index);
  c.set_what(what + " record");
  const uint32_t n = c.len();
  Cursor r = c.sub(n, "its record");
  t->name = r.str();
  if (!r.ok()) return;
  what = "tensor '" + t->name + "'";
  r.set_what(what + " record");
  const uint8_t dtype = r.code8(), encoding = r.code8(), ndim = r.code8();
  if (r.v1()) r.u8();
  if (!r.ok()) return;
  t->dtype = static_cast<DType>(dtype);
  t->encoding = static_cast<Encoding>(encoding);
  if (dtype_bytes(t->dtype) == 0) {
    r.fail(what + ": unknown dtype " + std::to_string(dtype) +
           " (this build knows 0 f32, 1 f16, 2 i8, 3 i32)");
    return;
  }
  if (encoding_name(t->encoding)[0] == '?') {
    r.fail(what + ": unknown encoding " + std::to_string(encoding) +
           " (this build knows 0 dense, 1 clustered, 2 sparse, 3 sparse_clustered)");
    return;
  }
  if (ndim > kTkwsMaxRank) {
    r.fail(what + ": expected at most " + std::to_string(kTkwsMaxRank) + " dims, found " +
           std::to_string(ndim));
    return;
  }
  uint64_t numel = 1;
  for (uint8_t k = 0; k < ndim && r.ok(); ++k) {
    const int32_t d = r.nat();
    t->shape.push_back(d);
    numel = d >= 1 && numel <= (uint64_t{1} << 32) ? numel * static_cast<uint64_t>(d) : 0;
  }
  if (!r.ok()) return;
  if (numel == 0 || numel > (uint64_t{1} << 30)) {
    r.fail(what + ": bad shape " + dims_str(t->shape) + " (expected dims >= 1, at most 2^30 " +
           "elements)");
    return;
  }
  r.set_what(what + " quant params");
  read_quant(r, &t->quant);
  r.set_what(what + " encoding params");
  const uint32_t ne = r.count(r.v1() ? 4 : 1);
  std::vector<uint32_t> params;
  for (uint32_t k = 0; k < ne && r.ok(); ++k) params.push_back(r.word());
  if (!r.ok()) return;
  if (std::string e = read_layout(t->encoding, numel, params, &ref->layout); !e.empty()) {
    r.fail(what + ": " + e);
    return;
  }
  const uint64_t want = layout_bytes(ref->layout, numel, dtype_bytes(t->dtype));
  if (!r.v1()) {
    ref->bytes = want;
    return;
  }
  r.set_what(what + " record");
  ref->offset = r.u64();
  ref->bytes = r.u64();
  if (!r.ok()) return;
  if (ref->bytes != want) {
    r.fail(what + ": expected a payload of " + std::to_string(want) + " bytes (" +
           layout_str(ref->layout, *t) + "), found " + std::to_string(ref->bytes));
  } else if (const uint32_t align =
                 t->encoding == Encoding::kDense ? kTkwsV1Align : kTkwsV1EncodedAlign;
             ref->offset % align != 0) {
    r.fail(what + ": expected a payload offset that is a multiple of " + std::to_string(align) +
           " (" + encoding_name(t->encoding) + "), found " + std::to_string(ref->offset));
  } else if (ref->offset < payload_start) {
    r.fail(what + ": payload offset " + std::to_string(ref->offset) +
           " lies inside the record area (payloads start at byte " + std::to_string(payload_start) +
           ")");
  } else if (ref->offset > data_end || ref->bytes > data_end - ref->offset) {
    r.fail("truncated: " + what + " payload ends at byte " +
           std::to_string(ref->offset + ref->bytes) + ", file data ends at byte " +
           std::to_string(data_end));
  }
}

// Section 1 of either version: magic, version, sizes and checksum, before anything is parsed.
// Sets the record area [*begin, *end) and, for v1, *payload_start.
bool parse_header(const uint8_t* d, size_t size, bool* v1, size_t* begin, size_t* end,
                  uint64_t* payload_start, std::string* err) {
  auto fail = [&](const std::string& msg) {
    *err = msg;
    return false;
  };
  const size_t min_size = kTkwsHeaderBytes + 4;
  if (size == 0)
    return fail("truncated: file is empty, a .tkws file has at least " + std::to_string(min_size) +
                " bytes");
  if (std::memcmp(d, kTkwsMagic, std::min<size_t>(size, 4)) != 0) {
    std::string found;
    bool printable = true;
    for (size_t i = 0; i < std::min<size_t>(size, 4); ++i) {
      printable = printable && d[i] >= 0x20 && d[i] < 0x7F;
      found += static_cast<char>(d[i]);
    }
    if (!printable) {
      found.clear();
      for (size_t i = 0; i < std::min<size_t>(size, 4); ++i) {
        char b[4];
        std::snprintf(b, sizeof b, "%02x", d[i]);
        found += b;
      }
      return fail("bad magic (expected TKWS, found bytes 0x" + found + "): not a .tkws file");
    }
    return fail("bad magic (expected TKWS, found '" + found + "'): not a .tkws file");
  }
  if (size < 8)
    return fail("truncated: file has " + std::to_string(size) +
                " bytes, a .tkws file has at least " + std::to_string(min_size));
  const uint32_t version = ld_u32(d + 4);
  if (version < kTkwsOldestVersion || version > kTkwsVersion)
    return fail("unsupported format version " + std::to_string(version) + " (this build reads " +
                std::to_string(kTkwsOldestVersion) + " to " + std::to_string(kTkwsVersion) + ")");
  *v1 = version == 1;
  const size_t header_min = *v1 ? kTkwsV1HeaderBytes : kTkwsHeaderBytes;
  if (size < header_min + 4)
    return fail("truncated: file has " + std::to_string(size) + " bytes, a version " +
                std::to_string(version) + " .tkws file has at least " +
                std::to_string(header_min + 4));
  const uint64_t file_bytes = *v1 ? ld_u64(d + 16) : ld_u32(d + 8);
  if (file_bytes > size)
    return fail("truncated: header says the file has " + std::to_string(file_bytes) +
                " bytes, found " + std::to_string(size));
  if (file_bytes < size)
    return fail("size mismatch: header says the file has " + std::to_string(file_bytes) +
                " bytes, found " + std::to_string(size) + " (trailing data)");
  const uint32_t stored = ld_u32(d + size - 4), computed = crc32(d, size - 4);
  if (stored != computed)
    return fail("checksum mismatch (stored " + hex32(stored) + ", computed " + hex32(computed) +
                "): the file is damaged");
  const uint32_t flags = ld_u32(d + 12);
  if (flags != 0) return fail("unsupported flags " + hex32(flags) + " (this build knows none)");
  const uint64_t data_end = size - 4;
  if (!*v1) {
    *begin = kTkwsHeaderBytes, *end = data_end, *payload_start = 0;
    return true;
  }
  const uint32_t header_bytes = ld_u32(d + 8);
  *payload_start = ld_u64(d + 24);
  if (header_bytes < kTkwsV1HeaderBytes || header_bytes > data_end)
    return fail("bad header size " + std::to_string(header_bytes) + " (expected at least " +
                std::to_string(kTkwsV1HeaderBytes) + " and within the file)");
  if (*payload_start % kTkwsV1Align != 0 || *payload_start < header_bytes ||
      *payload_start > data_end)
    return fail("bad payload start " + std::to_string(*payload_start) +
                " (expected a multiple of " + std::to_string(kTkwsV1Align) + " in [" +
                std::to_string(header_bytes) + ", " + std::to_string(data_end) + "])");
  *begin = header_bytes, *end = static_cast<size_t>(*payload_start);
  return true;
}

bool parse_impl(const uint8_t* d, size_t size, Model* m, std::string* err) {
  bool v1 = false;
  size_t begin = 0, end = 0;
  uint64_t payload_start = 0;
  if (!parse_header(d, size, &v1, &begin, &end, &payload_start, err)) return false;
  const uint64_t data_end = size - 4;

  // Sections 2-8: v1 within the record area, v2 up to the checksum (payloads follow them).
  Cursor c(d, begin, end, err, v1 ? "the record area" : "the file data", v1);
  read_frontend(c, &m->frontend);
  c.set_what("labels");
  const uint32_t nl = c.count(v1 ? 4 : 1);
  for (uint32_t i = 0; i < nl && c.ok(); ++i) m->labels.push_back(c.str());
  c.set_what("normalisation");
  m->norm_mean = c.f32s(c.count(4));
  m->norm_inv_std = c.f32s(c.count(4));
  c.set_what("input_quant");
  read_quant(c, &m->input_quant);
  c.set_what("ops");
  const uint32_t no = c.count(v1 ? 4 : 12);  // v2: the fields of an op record take >= 12 bytes
  if (c.ok()) m->ops.resize(no);
  for (uint32_t i = 0; i < no && c.ok(); ++i) read_op(c, i, &m->ops[i]);
  c.set_what("tensors");
  const uint32_t nt = c.count(v1 ? 4 : 8);  // v2: >= 8 bytes
  std::vector<PayloadRef> refs;
  if (c.ok()) m->tensors.resize(nt), refs.resize(nt);
  for (uint32_t i = 0; i < nt && c.ok(); ++i)
    read_tensor(c, i, payload_start, data_end, &m->tensors[i], &refs[i]);
  c.set_what("metadata_json");
  m->metadata_json = c.str();
  if (ld_u32(d + 4) >= 3) read_detector(c, m);  // 8a
  if (!c.ok()) return false;

  // v2 section 9: the payloads tile [end of section 8, data_end) in tensor order. Each is at
  // most 2^32 bytes (numel <= 2^30), so the sum cannot overflow.
  if (!v1) {
    const uint64_t start = c.pos(), avail = data_end - start;
    uint64_t need = 0;
    for (const PayloadRef& r : refs) need += r.bytes;
    if (need != avail)
      return c.fail(std::string(need > avail ? "truncated" : "size mismatch") + ": the " +
                    std::to_string(nt) + " tensor records need " + std::to_string(need) +
                    " payload bytes from byte " + std::to_string(start) + ", found " +
                    std::to_string(avail) + " before the checksum");
    uint64_t at = start;
    for (PayloadRef& r : refs) r.offset = at, at += r.bytes;
  }

  // Section 10: payloads (bounds already checked per tensor).
  for (uint32_t i = 0; i < nt; ++i) {
    Tensor& t = m->tensors[i];
    if (std::string e = decode_payload(d + refs[i].offset, refs[i].bytes, refs[i].layout, &t);
        !e.empty())
      return c.fail("tensor '" + t.name + "': " + e);
  }

  if (std::string e = check_model(*m); !e.empty()) return c.fail("invalid model: " + e);
  return true;
}

}  // namespace

uint32_t model_format_version(const uint8_t* data, size_t size) {
  if (data == nullptr || size < 8 || std::memcmp(data, kTkwsMagic, 4) != 0) return 0;
  return ld_u32(data + 4);
}

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

bool try_parse_model(const uint8_t* data, size_t size, const std::string& source_name, Model* out,
                     std::string* error) {
  Model m;
  std::string err;
  if (data == nullptr && size != 0) {
    err = "no data";
  } else if (parse_impl(data, size, &m, &err)) {
    *out = std::move(m);
    return true;
  }
  if (err.empty()) err = "unknown parse error";  // not reached: every failure sets a message
  *error = source_name + ": " + err;
  return false;
}

Model parse_model(const uint8_t* data, size_t size, const std::string& source_name) {
  Model m;
  std::string err;
  if (!try_parse_model(data, size, source_name, &m, &err)) throw InputError(err);
  return m;
}

std::vector<uint8_t> serialize_model(const Model& m, uint32_t version) {
  if (version < kTkwsOldestVersion || version > kTkwsVersion)
    throw std::invalid_argument("serialize_model: cannot write format version " +
                                std::to_string(version) + " (this build writes " +
                                std::to_string(kTkwsOldestVersion) + " to " +
                                std::to_string(kTkwsVersion) + ")");
  if (std::string e = check_model(m); !e.empty())
    throw std::invalid_argument("serialize_model: invalid model: " + e);
  const std::vector<TensorStorage> plan = describe_storage(m);
  const bool v1 = version == 1;
  ByteWriter w(v1);
  // Section 1; file_bytes (v1 @16, v2 @8) and v1's payload_start (@24) patched at the end.
  for (char ch : kTkwsMagic) w.u8(static_cast<uint8_t>(ch));
  w.u32(version);
  if (v1) {
    w.u32(kTkwsV1HeaderBytes), w.u32(0), w.u64(0), w.u64(0);
    w.pad_to(kTkwsV1HeaderBytes);
  } else {
    w.u32(0), w.u32(0);
  }
  write_frontend(w, m.frontend);  // 2
  w.len(m.labels.size());         // 3
  for (const std::string& l : m.labels) w.str(l);
  for (const auto* v : {&m.norm_mean, &m.norm_inv_std}) {  // 4
    w.len(v->size());
    for (float x : *v) w.f32(x);
  }
  write_quant(w, m.input_quant);  // 5
  w.len(m.ops.size());            // 6
  for (const Op& op : m.ops) {
    ByteWriter r(v1);
    r.code16(static_cast<uint16_t>(op.type)), r.code8(static_cast<uint8_t>(op.padding));
    r.code8(static_cast<uint8_t>(op.fused_activation));
    r.sint(op.kernel_h), r.sint(op.kernel_w), r.sint(op.stride_h), r.sint(op.stride_w);
    r.sint(op.out_channels);
    r.len(op.tensors.size());
    for (uint32_t t : op.tensors) r.word(t);
    write_quant(r, op.out_quant);
    w.rec(r);
  }
  w.len(m.tensors.size());                          // 7
  std::vector<size_t> offset_at(m.tensors.size());  // v1: where payload_offset goes
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const Tensor& t = m.tensors[i];
    ByteWriter r(v1);
    r.str(t.name);
    r.code8(static_cast<uint8_t>(t.dtype)), r.code8(static_cast<uint8_t>(plan[i].encoding));
    r.code8(static_cast<uint8_t>(t.shape.size()));
    if (v1) r.u8(0);
    for (int32_t dim : t.shape) r.nat(dim);
    write_quant(r, t.quant);
    const std::vector<uint32_t> params = layout_params(storage_layout(plan[i]));
    r.len(params.size());
    for (uint32_t p : params) r.word(p);
    if (v1) {
      offset_at[i] = w.b.size() + 4 + r.b.size();  // after w's u32 record_bytes
      r.u64(0);
      r.u64(plan[i].payload_bytes);
    }
    w.rec(r);
  }
  w.str(m.metadata_json);  // 8
  if (version >= 3) {
    write_detector(w, m);  // 8a
  } else if (!m.keyword_flags.empty() || !(m.detector == DetectorSettings{})) {
    throw std::invalid_argument("serialize_model: format version " + std::to_string(version) +
                                " cannot store keyword flags or detector settings (v3 can)");
  }
  if (v1) {
    w.pad_to(kTkwsV1Align);  // 9
    w.patch_u64(24, w.b.size());
    for (const bool dense : {true, false}) {  // 10: dense payloads first, then the others
      for (size_t i = 0; i < m.tensors.size(); ++i) {
        if ((plan[i].encoding == Encoding::kDense) != dense) continue;
        w.pad_to(dense ? kTkwsV1Align : kTkwsV1EncodedAlign);
        w.patch_u64(offset_at[i], w.b.size());
        write_payload(w, m.tensors[i], plan[i]);
      }
    }
    w.patch_u64(16, w.b.size() + 4);
  } else {
    for (size_t i = 0; i < m.tensors.size(); ++i) write_payload(w, m.tensors[i], plan[i]);  // 9
    w.patch_u32(8, ByteWriter::checked_u32(w.b.size() + 4));
  }
  w.u32(crc32(w.b.data(), w.b.size()));  // 11
  return std::move(w.b);
}

Model read_model(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> buf;
  constexpr size_t kMaxFile = size_t{1} << 30;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
    buf.insert(buf.end(), chunk, chunk + n);
    if (buf.size() > kMaxFile) break;
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) throw InputError(path + ": read error");
  if (buf.size() > kMaxFile) throw InputError(path + ": larger than 1 GiB, not a .tkws model");
  return parse_model(buf.data(), buf.size(), path);
}

void write_model(const std::string& path, const Model& m) {
  const std::vector<uint8_t> bytes = serialize_model(m);
  auto io_error = [&](const std::string& what) {
    return std::runtime_error(path + ": " + what + " (" + std::strerror(errno) + ")");
  };
#ifdef TKWS_HAVE_POSIX
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw io_error("cannot create a temporary file next to it");
  size_t done = 0;
  bool ok = true;
  while (ok && done < bytes.size()) {
    const ssize_t k = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (k < 0 && errno == EINTR) continue;
    ok = k > 0;
    if (ok) done += static_cast<size_t>(k);
  }
  ok = ok && ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const auto e = io_error(ok ? "cannot rename the temporary file over it" : "write failed");
    ::unlink(tmp.c_str());
    throw e;
  }
  // Make the rename itself durable.
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dfd = ::open(dir.c_str(), O_RDONLY);
  if (dfd >= 0) ::fsync(dfd), ::close(dfd);
#else
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw io_error("cannot create a temporary file next to it");
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw io_error("write failed");
  }
#endif
}

}  // namespace tkws
