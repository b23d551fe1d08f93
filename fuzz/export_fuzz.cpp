// Fuzz target: the TFLite / ONNX / C-array exporters (export/export.h) on whatever the .tkws
// parser accepts, as `tinykws export` runs them on a model file from anywhere. A model a
// format cannot express is an InputError (the expected answer); anything else (a crash, a
// sanitizer report, another exception) is a finding. Inputs are parsed as they are, then with
// their size field and CRC-32 made to match (tkws_fixup.h); the seeds are tkws's.
#include <optional>

#include "tinykws/common/error.h"
#include "tinykws/export/export.h"
#include "tinykws/format/tkws.h"
#include "tkws_fixup.h"

namespace {

void parse_and_export(const uint8_t* data, size_t size) {
  const std::optional<tkws::Model> parsed = tkws::fuzz::parse_or_refuse(data, size);
  if (!parsed) return;
  const tkws::Model& m = *parsed;
  try {
    const tkws::ExportResult t = tkws::export_tflite(m, "fuzz.tkws");
    if (t.bytes.empty()) __builtin_trap();  // a written graph is never empty
    (void)tkws::export_c_array(t.bytes, "fuzz", "fuzz_model.h", "fuzz.tkws");
  } catch (const tkws::InputError&) {
  }
  try {
    if (tkws::export_onnx(m, "fuzz.tkws").bytes.empty()) __builtin_trap();
  } catch (const tkws::InputError&) {
  }
  (void)tkws::export_metadata_json(m, "NHWC [1, frames, features, 1]");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tkws::fuzz::as_is_and_fixed(data, size, parse_and_export);
  return 0;
}
