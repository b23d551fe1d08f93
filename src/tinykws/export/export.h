// Writers of a tinykws Model in other formats (host side, torch-free; docs/architecture.md):
//  - TFLite flatbuffer (float32, or int8 for an int8 model) for TFLite / TFLite Micro / Arm NN,
//  - ONNX (opset 13) for onnxruntime,
//  - a C array (header + source) holding any file's bytes, named as TFLite Micro names its
//    model arrays.
// Every graph takes the features as `tinykws features --model M` writes them (before
// normalisation): the per-coefficient normalisation of the model is inside the graph, and the
// output is the class probabilities [1][labels]. Labels and front-end settings travel in the
// file's metadata (export_metadata_json()).
// A model a format cannot express throws InputError naming the op and the reason (exit 2).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/format/model.h"

namespace tkws {

struct ExportResult {
  std::vector<uint8_t> bytes;
  // What the user should know about the conversion, e.g. "fp16 weights written as float32".
  std::vector<std::string> notes;
};

// TFLite flatbuffer (schema version 3, file identifier "TFL3").
//  input  "features" float32 [1][frames][features][1] (raw features)
//  output "probabilities" float32 [1][labels]
// Float (f32 or f16) models: float32 tensors, BatchNorm folded into the preceding conv / dense,
// ReLU fused. int8 models: QUANTIZE after the float normalisation, int8 ops (per-channel conv
// and depthwise weights, per-tensor dense weights, int32 biases), DEQUANTIZE at the end.
// `source` names the model in error messages.
ExportResult export_tflite(const Model& m, const std::string& source);

// ONNX ModelProto, IR version 7, opset 13.
//  input  "features" float32 [1][1][frames][features] (NCHW, raw features)
//  output "probabilities" float32 [1][labels]
// int8 models: int8 / int32 initializers through DequantizeLinear, activations through
// QuantizeLinear + DequantizeLinear with the model's scales (QDQ form).
// metadata_props: "labels" (JSON array), "tinykws" (export_metadata_json()).
ExportResult export_onnx(const Model& m, const std::string& source);

// A C/C++ header and source holding `data` as TensorFlow Lite Micro names model arrays:
//   alignas(16) const unsigned char g_<name>_model_data[];
//   const unsigned int g_<name>_model_data_size;
// `name` must be a C identifier fragment ([A-Za-z0-9_], not starting with a digit);
// `header_name` is how the source includes the header. The source compiles as C11 and C++11.
struct CArrayFiles {
  std::string header, source;
};
CArrayFiles export_c_array(const std::vector<uint8_t>& data, const std::string& name,
                           const std::string& header_name, const std::string& description);

// A C identifier fragment made from a file name: "runs/Default-1.cc" -> "default_1".
std::string c_name_from_path(const std::string& path);

// JSON describing the exported graph for the metadata: labels, front-end settings, input and
// output layout, the source model's weight type. `input_layout` is "NHWC [1, frames,
// features, 1]" or "NCHW [1, 1, frames, features]".
std::string export_metadata_json(const Model& m, const std::string& input_layout);

}  // namespace tkws
