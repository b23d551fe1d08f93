// export_onnx() (export.h): a tinykws Model as an ONNX graph (opset 13), hand-encoded with
// pb::Message. Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto). Activations are NCHW [1][c][h][w]; the model's
// conv and depthwise weights are already OIHW ([out][in][kh][kw], [c][1][kh][kw]).
#include <algorithm>
#include <string>

#include "tinykws/common/error.h"
#include "tinykws/export/export.h"
#include "tinykws/export/lower.h"
#include "tinykws/export/protobuf_writer.h"

namespace tkws {

namespace {

using exporter::LoweredOp;
using pb::Message;

// TensorProto.DataType
enum OnnxType : int { kFloat = 1, kInt8 = 3, kInt32 = 6, kInt64 = 7 };
// AttributeProto.AttributeType
enum AttrType : int { kAttrFloat = 1, kAttrInt = 2, kAttrInts = 7 };

Message attr_int(const std::string& name, int64_t v) {
  Message a;
  a.string(1, name).varint(3, static_cast<uint64_t>(v)).varint(20, kAttrInt);
  return a;
}
Message attr_ints(const std::string& name, const std::vector<int64_t>& v) {
  Message a;
  a.string(1, name).packed_int64(8, v).varint(20, kAttrInts);
  return a;
}

Message value_info(const std::string& name, const std::vector<int64_t>& shape) {
  Message dims;
  for (int64_t d : shape) dims.message(1, Message().int64(1, d));  // TensorShapeProto.dim
  Message tensor_type;
  tensor_type.varint(1, kFloat).message(2, dims);
  Message vi;
  vi.string(1, name).message(2, Message().message(1, tensor_type));  // TypeProto.tensor_type
  return vi;
}

class OnnxExporter {
 public:
  OnnxExporter(const Model& m, const std::string& source) : m_(m), source_(source) {}

  ExportResult run() {
    ExportResult r;
    for (const Tensor& t : m_.tensors)
      if (t.dtype == DType::kF16) {
        r.notes.push_back("fp16 weights written as float32");
        break;
      }
    const std::vector<LoweredOp> nodes = exporter::lower_model(m_, source_);
    const ActShape in = model_input_shape(m_);
    std::string x = "features";
    const std::vector<int64_t> cshape = {1, 1, 1, in.w};
    if (!m_.norm_mean.empty())
      x = node("Sub", {x, constant("norm_mean", cshape, m_.norm_mean)}, "features_centred");
    if (!m_.norm_inv_std.empty())
      x = node("Mul", {x, constant("norm_inv_std", cshape, m_.norm_inv_std)},
               "features_normalised");
    if (m_.is_int8()) x = fake_quant(x, m_.input_quant, "features_q");
    flat_ = false;
    for (const LoweredOp& n : nodes) x = emit(n, x);
    if (!flat_) x = node("Flatten", {x}, "probabilities_flat", {attr_int("axis", 1)});
    x = node("Identity", {x}, "probabilities");

    graph_.string(2, "tinykws");
    graph_.message(11, value_info("features", {1, 1, in.h, in.w}));
    graph_.message(12, value_info("probabilities", {1, static_cast<int64_t>(m_.labels.size())}));
    std::string labels = "[";
    for (size_t i = 0; i < m_.labels.size(); ++i)
      labels += (i ? ", \"" : "\"") + m_.labels[i] + "\"";
    labels += "]";
    Message model;
    model
        .varint(1, 7)                                        // ir_version
        .string(2, "tinykws")                                // producer_name
        .string(3, "0.1.0")                                  // producer_version
        .message(7, graph_)                                  // graph
        .message(8, Message().string(1, "").varint(2, 13));  // opset_import: ai.onnx 13
    model.message(14, Message().string(1, "labels").string(2, labels));
    model.message(14, Message()
                          .string(1, "tinykws")
                          .string(2, export_metadata_json(m_, "NCHW [1, 1, frames, features]")));
    r.bytes = model.data();
    return r;
  }

 private:
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::string& output, const std::vector<Message>& attrs = {}) {
    Message n;
    for (const std::string& i : inputs) n.string(1, i);
    n.string(2, output).string(3, output + "_node").string(4, op);
    for (const Message& a : attrs) n.message(5, a);
    graph_.message(1, n);
    return output;
  }

  template <class T>
  std::string initializer(const std::string& name, const std::vector<int64_t>& dims, int type,
                          const std::vector<T>& v) {
    Message t;
    t.packed_int64(1, dims).varint(2, static_cast<uint64_t>(type)).string(8, name);
    t.bytes(9, v.data(), v.size() * sizeof(T));  // raw_data, little-endian
    graph_.message(5, t);
    return name;
  }
  std::string constant(const std::string& name, const std::vector<int64_t>& dims,
                       const std::vector<float>& v) {
    return initializer(name, dims, kFloat, v);
  }

  // x through QuantizeLinear + DequantizeLinear with per-tensor int8 params q.
  std::string fake_quant(const std::string& x, const QuantParams& q, const std::string& name) {
    const std::string s = initializer(name + "_scale", {}, kFloat, q.scale);
    const std::vector<int8_t> zp = {static_cast<int8_t>(q.zero_point.at(0))};
    const std::string z = initializer(name + "_zero_point", {}, kInt8, zp);
    return node("DequantizeLinear", {node("QuantizeLinear", {x, s, z}, name), s, z}, name + "_dq");
  }

  // An int8 / int32 weight through DequantizeLinear (per-channel along axis 0 when it has
  // several scales).
  template <class T>
  std::string dequantized(const std::string& name, const std::vector<int64_t>& dims, int type,
                          const std::vector<T>& v, const QuantParams& q) {
    const bool per_channel = q.scale.size() > 1;
    const std::vector<int64_t> qdims =
        per_channel ? std::vector<int64_t>{static_cast<int64_t>(q.scale.size())}
                    : std::vector<int64_t>{};
    const std::string s = initializer(name + "_scale", qdims, kFloat, q.scale);
    std::vector<T> zp(q.zero_point.begin(), q.zero_point.end());
    const std::string z = initializer(name + "_zero_point", qdims, type, zp);
    const std::string raw = initializer(name + "_q", dims, type, v);
    std::vector<Message> attrs;
    if (per_channel) attrs.push_back(attr_int("axis", 0));
    return node("DequantizeLinear", {raw, s, z}, name, attrs);
  }

  // Dense weights [out][in] with `in` in NHWC order (model.h) -> columns in NCHW order, the
  // order Flatten gives here.
  template <class T>
  std::vector<T> nchw_columns(const std::vector<T>& w, const LoweredOp& n) const {
    const int h = n.in.h, wd = n.in.w, c = n.in.c, units = n.out.c;
    if (flat_ || (h == 1 && wd == 1)) return w;
    const size_t cols = static_cast<size_t>(h) * wd * c;
    std::vector<T> out(w.size());
    for (int o = 0; o < units; ++o)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < wd; ++x)
          for (int ch = 0; ch < c; ++ch)
            out[o * cols + (static_cast<size_t>(ch) * h + y) * wd + x] =
                w[o * cols + (static_cast<size_t>(y) * wd + x) * c + ch];
    return out;
  }

  std::pair<std::string, std::string> weights(const LoweredOp& n) {
    const std::string p = "op" + std::to_string(n.first_op);
    const int64_t oc = n.out.c, ic = n.in.c, kh = n.win.kh, kw = n.win.kw;
    std::vector<int64_t> dims;
    if (n.type == OpType::kConv2D)
      dims = {oc, ic, kh, kw};
    else if (n.type == OpType::kDepthwiseConv2D)
      dims = {ic, 1, kh, kw};
    else
      dims = {oc, static_cast<int64_t>(n.in.size())};
    const bool dense = n.type == OpType::kDense;
    if (!m_.is_int8())
      return {constant(p + "_weight", dims, dense ? nchw_columns(n.w, n) : n.w),
              constant(p + "_bias", {oc}, n.b)};
    return {dequantized(p + "_weight", dims, kInt8, dense ? nchw_columns(n.w_q->i8, n) : n.w_q->i8,
                        n.w_q->quant),
            dequantized(p + "_bias", {oc}, kInt32, n.b_q->i32, n.b_q->quant)};
  }

  std::vector<Message> window_attrs(const LoweredOp& n) const {
    const Window& w = n.win;
    // TF "same" padding: pad_total = (out - 1) * s + k - in, the extra cell at the bottom/right.
    const int64_t pad_h = std::max<int64_t>(int64_t{n.out.h - 1} * w.sh + w.kh - n.in.h, 0);
    const int64_t pad_w = std::max<int64_t>(int64_t{n.out.w - 1} * w.sw + w.kw - n.in.w, 0);
    const bool same = n.op->padding == Padding::kSame;
    std::vector<Message> a = {attr_ints("kernel_shape", {w.kh, w.kw}),
                              attr_ints("strides", {w.sh, w.sw})};
    if (same)
      a.push_back(
          attr_ints("pads", {w.pad_top, w.pad_left, pad_h - w.pad_top, pad_w - w.pad_left}));
    return a;
  }

  [[noreturn]] void fail(const LoweredOp& n, const std::string& why) const {
    throw InputError(source_ + ": " + exporter::op_label(n) + " cannot be written as ONNX: " + why);
  }

  // Result of node n: ReLU when fused, then (int8 models) the output's QuantizeLinear +
  // DequantizeLinear.
  std::string finish(const LoweredOp& n, std::string y) {
    const std::string p = "op" + std::to_string(n.first_op);
    if (n.relu) y = node("Relu", {y}, p + "_relu");
    if (m_.is_int8()) y = fake_quant(y, n.out_quant, p + "_out");
    return y;
  }

  std::string emit(const LoweredOp& n, const std::string& x) {
    const std::string p = "op" + std::to_string(n.first_op);
    const bool windowed =
        n.type != OpType::kDense && n.type != OpType::kSoftmax && n.type != OpType::kRelu;
    if (flat_ && windowed) fail(n, "it follows a Dense layer, whose output has no spatial axes");
    switch (n.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D: {
        auto [w, b] = weights(n);
        std::vector<Message> a = window_attrs(n);
        if (n.type == OpType::kDepthwiseConv2D) a.push_back(attr_int("group", n.in.c));
        return finish(n, node("Conv", {x, w, b}, p + "_conv", a));
      }
      case OpType::kDense: {
        auto [w, b] = weights(n);
        std::string in = x;
        if (!flat_) in = node("Flatten", {x}, p + "_flat", {attr_int("axis", 1)});
        flat_ = true;
        return finish(n, node("Gemm", {in, w, b}, p + "_gemm", {attr_int("transB", 1)}));
      }
      case OpType::kBatchNorm: {
        const std::vector<int64_t> cdims = {1, n.in.c, 1, 1};
        const std::string s = constant(p + "_scale", cdims, n.w);
        const std::string t = constant(p + "_shift", cdims, n.b);
        return finish(n, node("Add", {node("Mul", {x, s}, p + "_scaled"), t}, p + "_bn"));
      }
      case OpType::kRelu:
        return finish(n, node("Relu", {x}, p + "_relu_op"));
      case OpType::kMaxPool2D:
        return finish(n, node("MaxPool", {x}, p + "_maxpool", window_attrs(n)));
      case OpType::kAvgPool2D: {
        // count_include_pad = 0: padded cells are not counted (TensorFlow).
        std::vector<Message> a = window_attrs(n);
        a.push_back(attr_int("count_include_pad", 0));
        return finish(n, node("AveragePool", {x}, p + "_avgpool", a));
      }
      case OpType::kGlobalAvgPool:
        return finish(n, node("GlobalAveragePool", {x}, p + "_gap"));
      case OpType::kSoftmax:
        if (!flat_ && (n.in.h != 1 || n.in.w != 1))
          fail(n,
               "softmax at each of several positions; tinykws exports a softmax over the "
               "class scores only");
        return finish(n, node("Softmax", {x}, p + "_softmax", {attr_int("axis", 1)}));
      default:
        fail(n, "no ONNX operator for it");
    }
  }

  const Model& m_;
  const std::string& source_;
  Message graph_;
  bool flat_ = false;
};

}  // namespace

ExportResult export_onnx(const Model& m, const std::string& source) {
  return OnnxExporter(m, source).run();
}

}  // namespace tkws
