// tinykws export --model M.tkws --format tflite|onnx|c --out FILE [--inner tkws|tflite]
// (export/export.h). `--format c` writes FILE (source) and FILE's stem + ".h" beside it.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "tinykws/cli/commands.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/export/export.h"
#include "tinykws/format/tkws.h"

namespace tkws::cli {

Runner add_export(CLI::App& app) {
  struct Args {
    std::string model, format, out, inner = "tkws", name;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--model", a->model, "Model file (.tkws)")->required();
  app.add_option("--format", a->format, "tflite, onnx or c (a C array of the model's bytes)")
      ->required()
      ->check(CLI::IsMember({"tflite", "onnx", "c"}));
  app.add_option("--out", a->out,
                 "Output file (.tflite, .onnx, or the C source: FILE.cc / FILE.c; the header "
                 "FILE.h is written beside it)")
      ->required();
  app.add_option("--inner", a->inner,
                 "--format c: the bytes in the array, the .tkws file (default) or the .tflite "
                 "export")
      ->check(CLI::IsMember({"tkws", "tflite"}));
  app.add_option("--name", a->name,
                 "--format c: array name fragment, g_<name>_model_data (default: from --out)");
  return [a] {
    namespace fs = std::filesystem;
    const std::string dir = fs::path(a->out).parent_path().string();
    if (!dir.empty() && !fs::is_directory(dir))
      throw InputError(a->out + ": folder '" + dir + "' does not exist");
    if (a->format == "c" && fs::path(a->out).extension() == ".h")
      throw InputError(a->out +
                       ": --out names the C source (.c / .cc); the header is written "
                       "beside it");
    const Model m = read_model(a->model);
    ExportResult r;
    if (a->format == "tflite" || (a->format == "c" && a->inner == "tflite"))
      r = export_tflite(m, a->model);
    else if (a->format == "onnx")
      r = export_onnx(m, a->model);
    for (const std::string& note : r.notes)
      std::fprintf(stderr, "tinykws: note: %s\n", note.c_str());
    if (a->format != "c") {
      write_file_atomic(a->out, r.bytes.data(), r.bytes.size());
      std::printf("%s: %zu bytes (%s%s)\n", a->out.c_str(), r.bytes.size(), a->format.c_str(),
                  m.is_int8() ? ", int8" : ", float32");
      return 0;
    }
    std::vector<uint8_t> bytes = r.bytes;
    if (a->inner == "tkws") {
      const std::string file = read_text_file(a->model);
      bytes.assign(file.begin(), file.end());
    }
    const std::string name = a->name.empty() ? c_name_from_path(a->out) : c_name_from_path(a->name);
    const fs::path header = fs::path(a->out).replace_extension(".h");
    const CArrayFiles f = export_c_array(bytes, name, header.filename().string(),
                                         fs::path(a->model).filename().string() + " as " +
                                             (a->inner == "tkws" ? ".tkws" : ".tflite") + " bytes");
    write_file_atomic(header.string(), f.header);
    write_file_atomic(a->out, f.source);
    std::printf("%s, %s: g_%s_model_data, %zu bytes (%s)\n", a->out.c_str(),
                header.string().c_str(), name.c_str(), bytes.size(), a->inner.c_str());
    return 0;
  };
}

}  // namespace tkws::cli
