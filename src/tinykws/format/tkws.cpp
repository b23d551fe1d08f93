// .tkws reader and writer of whole file images. The layout is defined in tkws.h (sections
// numbered 1-11 there; the comments below refer to those numbers); this file puts the sections
// in order and checks the header and the payload area. The parts: crc_f16.cpp (checksum,
// binary16), byte_io.cpp (field widths, bounds-checked cursor), records.cpp (sections 2-8a),
// encoding.cpp (section 10), model_file.cpp (reading and writing files). Standard library only
// so format/ also builds for a small board.
#include "tinykws/format/tkws.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "tinykws/common/error.h"
#include "tinykws/format/byte_io.h"
#include "tinykws/format/encoding.h"
#include "tinykws/format/records.h"

namespace tkws {

using namespace detail;

namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
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
  for (const Op& op : m.ops) write_op(w, op);
  w.len(m.tensors.size());                          // 7
  std::vector<size_t> offset_at(m.tensors.size());  // v1: where payload_offset goes
  for (size_t i = 0; i < m.tensors.size(); ++i)
    offset_at[i] = write_tensor(w, m.tensors[i], plan[i]);
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

}  // namespace tkws
