// Internal to export/: a TFLite flatbuffer assembled with flatbuffers' FlatBufferBuilder
// (libflatbuffers-dev, header-only use) and the field numbers of TFLite's schema.fbs
// (schema version 3). Only the tables and fields tinykws writes are named here; a table's
// vtable slot is 4 + 2 * field id.
//
// Usage: add buffers, tensors and operators (each is finished as soon as it is added, so no
// table is ever open between calls), then finish() with the subgraph's inputs and outputs.
#pragma once
#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tkws::tflite {

// TensorType (schema.fbs).
enum TensorType : int8_t { kFloat32 = 0, kInt32 = 2, kInt8 = 9 };

// BuiltinOperator values (schema.fbs); all below 127 so the deprecated byte holds them too.
enum BuiltinOp : int32_t {
  kAdd = 0,
  kAveragePool2D = 1,
  kConv2D = 3,
  kDepthwiseConv2D = 4,
  kDequantize = 6,
  kFullyConnected = 9,
  kMaxPool2D = 17,
  kMul = 18,
  kRelu = 19,
  kReshape = 22,
  kSoftmax = 25,
  kMean = 40,
  kSub = 41,
  kQuantize = 114,
};

// BuiltinOptions union member indices (schema.fbs order, NONE = 0).
enum OptionsType : uint8_t {
  kNoOptions = 0,
  kConv2DOptions = 1,
  kDepthwiseConv2DOptions = 2,
  kPool2DOptions = 5,
  kFullyConnectedOptions = 8,
  kSoftmaxOptions = 9,
  kAddOptions = 11,
  kReshapeOptions = 17,
  kMulOptions = 21,
  kReducerOptions = 27,
  kSubOptions = 28,
};

enum PaddingType : int8_t { kSame = 0, kValid = 1 };
enum Activation : int8_t { kActNone = 0, kActRelu = 1 };

struct Quant {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t dimension = 0;  // quantized_dimension
  bool empty() const { return scale.empty(); }
};

class Builder {
 public:
  Builder();

  // A constant's bytes (16-byte aligned in the file); returns its buffer index.
  uint32_t add_buffer(const void* data, size_t size);
  // A tensor; buffer 0 = no data (activations). Returns its index.
  int32_t add_tensor(const std::string& name, const std::vector<int32_t>& shape, TensorType type,
                     uint32_t buffer = 0, const Quant& q = {});
  template <class T>
  int32_t add_constant(const std::string& name, const std::vector<int32_t>& shape, TensorType type,
                       const std::vector<T>& values, const Quant& q = {}) {
    return add_tensor(name, shape, type, add_buffer(values.data(), values.size() * sizeof(T)), q);
  }

  // Options tables, each returning the union value's offset.
  flatbuffers::Offset<void> conv_options(PaddingType p, int32_t stride_w, int32_t stride_h,
                                         Activation act);
  flatbuffers::Offset<void> depthwise_options(PaddingType p, int32_t stride_w, int32_t stride_h,
                                              Activation act);
  flatbuffers::Offset<void> pool_options(PaddingType p, int32_t stride_w, int32_t stride_h,
                                         int32_t filter_w, int32_t filter_h);
  flatbuffers::Offset<void> activation_options(Activation act);  // FC, Add, Sub, Mul
  flatbuffers::Offset<void> softmax_options(float beta);
  flatbuffers::Offset<void> reducer_options(bool keep_dims);
  flatbuffers::Offset<void> reshape_options(const std::vector<int32_t>& new_shape);

  void add_operator(BuiltinOp op, const std::vector<int32_t>& inputs,
                    const std::vector<int32_t>& outputs, OptionsType options_type = kNoOptions,
                    flatbuffers::Offset<void> options = 0);

  // Metadata entry `name` holding `bytes` (Model.metadata).
  void add_metadata(const std::string& name, const std::string& bytes);

  // The finished file, identifier "TFL3".
  std::vector<uint8_t> finish(const std::vector<int32_t>& inputs,
                              const std::vector<int32_t>& outputs, const std::string& description);

 private:
  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<flatbuffers::Offset<void>> buffers_, tensors_, operators_, metadata_;
  std::vector<flatbuffers::Offset<void>> opcodes_;
  std::map<int32_t, uint32_t> opcode_index_;
};

}  // namespace tkws::tflite
