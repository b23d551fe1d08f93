#include "tinykws/export/lower.h"

#include "tinykws/common/error.h"
#include "tinykws/runtime/interpreter.h"  // tensor_as_float

namespace tkws::exporter {

namespace {

std::vector<float> float_values(const Model& m, const Op& op, size_t k, const std::string& source) {
  if (k >= op.tensors.size()) return {};
  std::vector<float> v;
  Status st;
  if (!tensor_as_float(m.tensors[op.tensors[k]], &v, &st))
    throw InputError(source + ": " + st.message);
  return v;
}

bool weighted(OpType t) {
  return t == OpType::kConv2D || t == OpType::kDepthwiseConv2D || t == OpType::kDense;
}

}  // namespace

std::string op_label(const LoweredOp& n) {
  return "op " + std::to_string(n.first_op) + " (" + op_name(n.type) + ")";
}

std::vector<LoweredOp> lower_model(const Model& m, const std::string& source) {
  if (std::string e = check_model(m); !e.empty()) throw InputError(source + ": " + e);
  const size_t n = m.ops.size();
  std::vector<ActShape> shapes(n + 1);
  shapes[0] = model_input_shape(m);
  for (size_t i = 0; i < n; ++i)
    if (std::string e = op_output_shape(m, i, shapes[i], &shapes[i + 1]); !e.empty())
      throw InputError(source + ": " + e);

  const bool int8 = m.is_int8();
  std::vector<LoweredOp> out;
  for (size_t i = 0; i < n;) {
    const Op& op = m.ops[i];
    LoweredOp x;
    x.type = op.type;
    x.op = &op;
    x.first_op = static_cast<int>(i);
    x.in = shapes[i];
    x.win = op_window(op, shapes[i]);
    x.out_quant = op.out_quant;
    size_t last = i;
    auto next_is = [&](OpType t) { return last + 1 < n && m.ops[last + 1].type == t; };
    if (int8) {
      x.relu = op.fused_activation == FusedActivation::kRelu;
      if (weighted(op.type)) {
        x.w_q = &m.tensors[op.tensors.at(0)];
        x.b_q = op.tensors.size() > 1 ? &m.tensors[op.tensors[1]] : nullptr;
        if (!x.b_q) throw InputError(source + ": " + op_label(x) + " of an int8 model has no bias");
      }
    } else if (weighted(op.type) || op.type == OpType::kBatchNorm) {
      x.w = float_values(m, op, 0, source);
      x.b = float_values(m, op, 1, source);
      const size_t oc = static_cast<size_t>(shapes[i + 1].c);
      if (x.b.empty()) x.b.assign(oc, 0.0f);
      if (weighted(op.type) && next_is(OpType::kBatchNorm)) {
        ++last;
        const std::vector<float> scale = float_values(m, m.ops[last], 0, source);
        const std::vector<float> shift = float_values(m, m.ops[last], 1, source);
        const size_t per_out = x.w.size() / oc;  // weights are [out][...] in every layout
        for (size_t o = 0; o < oc; ++o) {
          for (size_t j = 0; j < per_out; ++j) x.w[o * per_out + j] *= scale[o];
          x.b[o] = x.b[o] * scale[o] + shift[o];
        }
      }
      if (next_is(OpType::kRelu)) {
        ++last;
        x.relu = true;
      }
    }
    x.last_op = static_cast<int>(last);
    x.out = shapes[last + 1];
    out.push_back(std::move(x));
    i = last + 1;
  }
  return out;
}

}  // namespace tkws::exporter
