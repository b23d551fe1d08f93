// Sections 2-8a of tkws.h: the records and sized sections between the header and the
// payloads, written and read field by field in either field width (v1 or v2/v3; byte_io.h).
// Tested through whole files in tests/format/tkws_test.cpp and detector_format_test.cpp.
#include "tinykws/format/records.h"

#include <stdexcept>
#include <string>

#include "tinykws/format/tkws.h"

namespace tkws {

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

namespace detail {

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

void write_op(ByteWriter& w, const Op& op) {
  ByteWriter r(w.v1);
  r.code16(static_cast<uint16_t>(op.type)), r.code8(static_cast<uint8_t>(op.padding));
  r.code8(static_cast<uint8_t>(op.fused_activation));
  r.sint(op.kernel_h), r.sint(op.kernel_w), r.sint(op.stride_h), r.sint(op.stride_w);
  r.sint(op.out_channels);
  r.len(op.tensors.size());
  for (uint32_t t : op.tensors) r.word(t);
  write_quant(r, op.out_quant);
  w.rec(r);
}

size_t write_tensor(ByteWriter& w, const Tensor& t, const TensorStorage& s) {
  ByteWriter r(w.v1);
  r.str(t.name);
  r.code8(static_cast<uint8_t>(t.dtype)), r.code8(static_cast<uint8_t>(s.encoding));
  r.code8(static_cast<uint8_t>(t.shape.size()));
  if (r.v1) r.u8(0);
  for (int32_t dim : t.shape) r.nat(dim);
  write_quant(r, t.quant);
  const std::vector<uint32_t> params = layout_params(storage_layout(s));
  r.len(params.size());
  for (uint32_t p : params) r.word(p);
  size_t offset_at = 0;
  if (r.v1) {
    offset_at = w.b.size() + 4 + r.b.size();  // after w's u32 record_bytes
    r.u64(0);
    r.u64(s.payload_bytes);
  }
  w.rec(r);
  return offset_at;
}

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

}  // namespace detail
}  // namespace tkws
