// Internal to export/: a Model as the exporters write it. One LoweredOp per node they emit:
//  - float models: a BatchNorm right after a Conv2D / DepthwiseConv2D / Dense is folded into its
//    weights and bias (w'[o] = w[o] * scale[o], b'[o] = b[o] * scale[o] + shift[o], the fold the
//    runtime's fast kernels make), a ReLU right after a conv / dense / BatchNorm is fused;
//  - int8 models: ops as they are (quantize_int8 folded every BatchNorm into a conv / dense or
//    made it a 1x1 DepthwiseConv2D; ReLU is fused_activation).
// Weighted ops always carry a bias (zeros when the model has none).
#pragma once
#include <string>
#include <vector>

#include "tinykws/format/model.h"

namespace tkws::exporter {

struct LoweredOp {
  OpType type = OpType::kRelu;
  const Op* op = nullptr;  // the model op this node starts from
  int first_op = 0, last_op = 0;
  bool relu = false;  // ReLU applied to the result
  ActShape in, out;   // activation shapes (NHWC)
  Window win;         // windowed ops
  // Float models: weights in the model's layout (model.h) after folding, bias [out channels];
  // BatchNorm alone: w = scale, b = shift.
  std::vector<float> w, b;
  // int8 models: the weight (kI8) and bias (kI32) tensors, null elsewhere.
  const Tensor* w_q = nullptr;
  const Tensor* b_q = nullptr;
  QuantParams out_quant;  // int8 models: the output's params
};

// check_model() first (InputError "<source>: <message>"), then the nodes in order.
std::vector<LoweredOp> lower_model(const Model& m, const std::string& source);

// "op 3 (Softmax)": how export errors name an op.
std::string op_label(const LoweredOp& n);

}  // namespace tkws::exporter
