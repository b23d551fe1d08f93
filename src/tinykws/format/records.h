// Records and sized sections of the .tkws file (internal to format/; tkws.h sections 2-8a):
// one writer and one reader per section or record kind. Readers take a Cursor (byte_io.h),
// record the first problem in it and leave the rest of the structure unset after an error;
// a record is read through a sub-cursor limited to its record_bytes, so it never reads its
// neighbour and skips fields a newer writer appended.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinykws/format/byte_io.h"
#include "tinykws/format/encoding.h"
#include "tinykws/format/model.h"

namespace tkws {
struct TensorStorage;
}

namespace tkws::detail {

// Quant block (sections 5, 6, 7): s axis, u n, f32 scale[n], s zero_point[n] (v1: i32, u32).
void write_quant(ByteWriter& w, const QuantParams& q);
void read_quant(Cursor& c, QuantParams* q);

// Section 2: a sized section (v1: u32 section_bytes >= 48 and two reserved bytes).
void write_frontend(ByteWriter& w, const FrontendConfig& f);
void read_frontend(Cursor& c, FrontendConfig* f);

// Section 8a (v3): keyword flags and detector defaults, one rec. Ranges are check_model's.
void write_detector(ByteWriter& w, const Model& m);
void read_detector(Cursor& c, Model* m);

// Section 6: one op record. read_op checks the type, padding and activation codes.
void write_op(ByteWriter& w, const Op& op);
void read_op(Cursor& c, size_t index, Op* op);

// Where a tensor's payload lives and how it is laid out; filled while reading section 7,
// used for section 10.
struct PayloadRef {
  uint64_t offset = 0, bytes = 0;
  Layout layout;
};

// Section 7: one tensor record, with the encoding `s` chose (describe_storage). v1 records end
// with the payload's offset and size: write_tensor writes offset 0 and returns where in w.b
// the offset goes (0 for v2), for the caller to patch once payloads are placed.
size_t write_tensor(ByteWriter& w, const Tensor& t, const TensorStorage& s);
// v1 records' offset and size are checked against [payload_start, data_end); v2 records have
// neither (ref->offset is set after section 8).
void read_tensor(Cursor& c, size_t index, uint64_t payload_start, uint64_t data_end, Tensor* t,
                 PayloadRef* ref);

}  // namespace tkws::detail
