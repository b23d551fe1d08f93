#include "tinykws/export/tflite_builder.h"

namespace tkws::tflite {

namespace {

using flatbuffers::Offset;
using flatbuffers::voffset_t;

constexpr voffset_t slot(int field_id) {
  return static_cast<voffset_t>(4 + 2 * field_id);
}

// Field ids (schema.fbs): table name, then fields in declaration order.
namespace model_f {
constexpr int kVersion = 0, kOperatorCodes = 1, kSubgraphs = 2, kDescription = 3, kBuffers = 4,
              kMetadata = 6;
}
namespace opcode_f {
constexpr int kDeprecatedBuiltinCode = 0, kVersion = 2, kBuiltinCode = 3;
}
namespace subgraph_f {
constexpr int kTensors = 0, kInputs = 1, kOutputs = 2, kOperators = 3, kName = 4;
}
namespace tensor_f {
constexpr int kShape = 0, kType = 1, kBuffer = 2, kName = 3, kQuantization = 4;
}
namespace quant_f {
constexpr int kScale = 2, kZeroPoint = 3, kQuantizedDimension = 6;
}
namespace operator_f {
constexpr int kOpcodeIndex = 0, kInputs = 1, kOutputs = 2, kOptionsType = 3, kOptions = 4;
}
namespace metadata_f {
constexpr int kName = 0, kBuffer = 1;
}

}  // namespace

Builder::Builder() : fbb_(4096) {
  // Buffer 0 is the empty buffer that tensors without data refer to.
  const auto start = fbb_.StartTable();
  buffers_.push_back(Offset<void>(fbb_.EndTable(start)));
}

uint32_t Builder::add_buffer(const void* data, size_t size) {
  fbb_.ForceVectorAlignment(size, 1, 16);
  const auto vec = fbb_.CreateVector(static_cast<const uint8_t*>(data), size);
  const auto start = fbb_.StartTable();
  fbb_.AddOffset(slot(0), vec);  // Buffer.data
  buffers_.push_back(Offset<void>(fbb_.EndTable(start)));
  return static_cast<uint32_t>(buffers_.size() - 1);
}

int32_t Builder::add_tensor(const std::string& name, const std::vector<int32_t>& shape,
                            TensorType type, uint32_t buffer, const Quant& q) {
  const auto shape_v = fbb_.CreateVector(shape);
  const auto name_s = fbb_.CreateString(name);
  Offset<void> quant = 0;
  if (!q.empty()) {
    const auto scale_v = fbb_.CreateVector(q.scale);
    const auto zp_v = fbb_.CreateVector(q.zero_point);
    const auto start = fbb_.StartTable();
    fbb_.AddOffset(slot(quant_f::kScale), scale_v);
    fbb_.AddOffset(slot(quant_f::kZeroPoint), zp_v);
    fbb_.AddElement<int32_t>(slot(quant_f::kQuantizedDimension), q.dimension, 0);
    quant = Offset<void>(fbb_.EndTable(start));
  }
  const auto start = fbb_.StartTable();
  fbb_.AddOffset(slot(tensor_f::kShape), shape_v);
  fbb_.AddElement<int8_t>(slot(tensor_f::kType), type, 0);
  fbb_.AddElement<uint32_t>(slot(tensor_f::kBuffer), buffer, 0);
  fbb_.AddOffset(slot(tensor_f::kName), name_s);
  if (!q.empty()) fbb_.AddOffset(slot(tensor_f::kQuantization), quant);
  tensors_.push_back(Offset<void>(fbb_.EndTable(start)));
  return static_cast<int32_t>(tensors_.size() - 1);
}

// Conv2DOptions: padding, stride_w, stride_h, fused_activation_function, dilation_w, dilation_h.
Offset<void> Builder::conv_options(PaddingType p, int32_t sw, int32_t sh, Activation act) {
  const auto start = fbb_.StartTable();
  fbb_.AddElement<int8_t>(slot(0), p, 0);
  fbb_.AddElement<int32_t>(slot(1), sw, 0);
  fbb_.AddElement<int32_t>(slot(2), sh, 0);
  fbb_.AddElement<int8_t>(slot(3), act, 0);
  fbb_.AddElement<int32_t>(slot(4), 1, 1);
  fbb_.AddElement<int32_t>(slot(5), 1, 1);
  return Offset<void>(fbb_.EndTable(start));
}

// DepthwiseConv2DOptions: padding, stride_w, stride_h, depth_multiplier,
// fused_activation_function, dilation_w, dilation_h.
Offset<void> Builder::depthwise_options(PaddingType p, int32_t sw, int32_t sh, Activation act) {
  const auto start = fbb_.StartTable();
  fbb_.AddElement<int8_t>(slot(0), p, 0);
  fbb_.AddElement<int32_t>(slot(1), sw, 0);
  fbb_.AddElement<int32_t>(slot(2), sh, 0);
  fbb_.AddElement<int32_t>(slot(3), 1, 0);
  fbb_.AddElement<int8_t>(slot(4), act, 0);
  fbb_.AddElement<int32_t>(slot(5), 1, 1);
  fbb_.AddElement<int32_t>(slot(6), 1, 1);
  return Offset<void>(fbb_.EndTable(start));
}

// Pool2DOptions: padding, stride_w, stride_h, filter_width, filter_height, activation.
Offset<void> Builder::pool_options(PaddingType p, int32_t sw, int32_t sh, int32_t fw, int32_t fh) {
  const auto start = fbb_.StartTable();
  fbb_.AddElement<int8_t>(slot(0), p, 0);
  fbb_.AddElement<int32_t>(slot(1), sw, 0);
  fbb_.AddElement<int32_t>(slot(2), sh, 0);
  fbb_.AddElement<int32_t>(slot(3), fw, 0);
  fbb_.AddElement<int32_t>(slot(4), fh, 0);
  return Offset<void>(fbb_.EndTable(start));
}

// FullyConnectedOptions, AddOptions, SubOptions, MulOptions: fused_activation_function first.
Offset<void> Builder::activation_options(Activation act) {
  const auto start = fbb_.StartTable();
  fbb_.AddElement<int8_t>(slot(0), act, 0);
  return Offset<void>(fbb_.EndTable(start));
}

Offset<void> Builder::softmax_options(float beta) {
  const auto start = fbb_.StartTable();
  fbb_.AddElement<float>(slot(0), beta, 0.0f);
  return Offset<void>(fbb_.EndTable(start));
}

Offset<void> Builder::reducer_options(bool keep_dims) {
  const auto start = fbb_.StartTable();
  fbb_.AddElement<uint8_t>(slot(0), keep_dims ? 1 : 0, 0);
  return Offset<void>(fbb_.EndTable(start));
}

Offset<void> Builder::reshape_options(const std::vector<int32_t>& new_shape) {
  const auto v = fbb_.CreateVector(new_shape);
  const auto start = fbb_.StartTable();
  fbb_.AddOffset(slot(0), v);
  return Offset<void>(fbb_.EndTable(start));
}

void Builder::add_operator(BuiltinOp op, const std::vector<int32_t>& inputs,
                           const std::vector<int32_t>& outputs, OptionsType options_type,
                           Offset<void> options) {
  auto [it, added] = opcode_index_.try_emplace(op, static_cast<uint32_t>(opcodes_.size()));
  if (added) {
    // Both the deprecated byte (read by older parsers such as Arm NN 20.08) and the int32 code.
    const auto start = fbb_.StartTable();
    fbb_.AddElement<int8_t>(slot(opcode_f::kDeprecatedBuiltinCode), static_cast<int8_t>(op), 0);
    fbb_.AddElement<int32_t>(slot(opcode_f::kVersion), 1, 1);
    fbb_.AddElement<int32_t>(slot(opcode_f::kBuiltinCode), op, 0);
    opcodes_.push_back(Offset<void>(fbb_.EndTable(start)));
  }
  const auto in_v = fbb_.CreateVector(inputs);
  const auto out_v = fbb_.CreateVector(outputs);
  const auto start = fbb_.StartTable();
  fbb_.AddElement<uint32_t>(slot(operator_f::kOpcodeIndex), it->second, 0);
  fbb_.AddOffset(slot(operator_f::kInputs), in_v);
  fbb_.AddOffset(slot(operator_f::kOutputs), out_v);
  if (options_type != kNoOptions) {
    fbb_.AddElement<uint8_t>(slot(operator_f::kOptionsType), options_type, 0);
    fbb_.AddOffset(slot(operator_f::kOptions), options);
  }
  operators_.push_back(Offset<void>(fbb_.EndTable(start)));
}

void Builder::add_metadata(const std::string& name, const std::string& bytes) {
  const uint32_t buffer = add_buffer(bytes.data(), bytes.size());
  const auto name_s = fbb_.CreateString(name);
  const auto start = fbb_.StartTable();
  fbb_.AddOffset(slot(metadata_f::kName), name_s);
  fbb_.AddElement<uint32_t>(slot(metadata_f::kBuffer), buffer, 0);
  metadata_.push_back(Offset<void>(fbb_.EndTable(start)));
}

std::vector<uint8_t> Builder::finish(const std::vector<int32_t>& inputs,
                                     const std::vector<int32_t>& outputs,
                                     const std::string& description) {
  const auto tensors_v = fbb_.CreateVector(tensors_);
  const auto in_v = fbb_.CreateVector(inputs);
  const auto out_v = fbb_.CreateVector(outputs);
  const auto ops_v = fbb_.CreateVector(operators_);
  const auto name_s = fbb_.CreateString("main");
  auto start = fbb_.StartTable();
  fbb_.AddOffset(slot(subgraph_f::kTensors), tensors_v);
  fbb_.AddOffset(slot(subgraph_f::kInputs), in_v);
  fbb_.AddOffset(slot(subgraph_f::kOutputs), out_v);
  fbb_.AddOffset(slot(subgraph_f::kOperators), ops_v);
  fbb_.AddOffset(slot(subgraph_f::kName), name_s);
  const std::vector<Offset<void>> subgraphs = {Offset<void>(fbb_.EndTable(start))};

  const auto opcodes_v = fbb_.CreateVector(opcodes_);
  const auto subgraphs_v = fbb_.CreateVector(subgraphs);
  const auto desc_s = fbb_.CreateString(description);
  const auto buffers_v = fbb_.CreateVector(buffers_);
  const auto metadata_v = fbb_.CreateVector(metadata_);
  start = fbb_.StartTable();
  fbb_.AddElement<uint32_t>(slot(model_f::kVersion), 3, 0);
  fbb_.AddOffset(slot(model_f::kOperatorCodes), opcodes_v);
  fbb_.AddOffset(slot(model_f::kSubgraphs), subgraphs_v);
  fbb_.AddOffset(slot(model_f::kDescription), desc_s);
  fbb_.AddOffset(slot(model_f::kBuffers), buffers_v);
  if (!metadata_.empty()) fbb_.AddOffset(slot(model_f::kMetadata), metadata_v);
  fbb_.Finish(Offset<void>(fbb_.EndTable(start)), "TFL3");
  return std::vector<uint8_t>(fbb_.GetBufferPointer(), fbb_.GetBufferPointer() + fbb_.GetSize());
}

}  // namespace tkws::tflite
