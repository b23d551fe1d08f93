// export_tflite() (export.h): a tinykws Model as a TFLite graph through tflite::Builder.
// Activation layout NHWC [1][h][w][c] in both formats; weights move from the model's layouts
// (model.h) to TFLite's: conv [out][kh][kw][in], depthwise [1][kh][kw][c], dense [out][in].
#include <cstring>

#include "tinykws/common/error.h"
#include "tinykws/export/export.h"
#include "tinykws/export/lower.h"
#include "tinykws/export/tflite_builder.h"

namespace tkws {

namespace {

using exporter::LoweredOp;
namespace tfl = tflite;

// [oc][ic][kh][kw] -> [oc][kh][kw][ic]
template <class T>
std::vector<T> conv_ohwi(const std::vector<T>& w, int oc, int ic, int kh, int kw) {
  std::vector<T> out(w.size());
  for (int o = 0; o < oc; ++o)
    for (int i = 0; i < ic; ++i)
      for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x)
          out[((o * kh + y) * kw + x) * ic + i] = w[((o * ic + i) * kh + y) * kw + x];
  return out;
}

// [c][1][kh][kw] -> [1][kh][kw][c]
template <class T>
std::vector<T> depthwise_hwc(const std::vector<T>& w, int c, int kh, int kw) {
  std::vector<T> out(w.size());
  for (int ch = 0; ch < c; ++ch)
    for (int t = 0; t < kh * kw; ++t) out[t * c + ch] = w[ch * kh * kw + t];
  return out;
}

tfl::Quant to_quant(const QuantParams& q, int32_t dimension = 0) {
  tfl::Quant r;
  r.scale = q.scale;
  r.zero_point.assign(q.zero_point.begin(), q.zero_point.end());
  r.dimension = q.axis < 0 ? 0 : dimension;
  return r;
}

std::vector<int32_t> nhwc(ActShape s) {
  return {1, s.h, s.w, s.c};
}

class TfliteExporter {
 public:
  TfliteExporter(const Model& m, const std::string& source) : m_(m), source_(source) {}

  ExportResult run() {
    ExportResult r;
    const std::vector<LoweredOp> nodes = exporter::lower_model(m_, source_);
    for (const Tensor& t : m_.tensors)
      if (t.dtype == DType::kF16) {
        r.notes.push_back(
            "fp16 weights written as float32 (TFLite readers such as Arm NN "
            "do not take fp16 weights behind DEQUANTIZE)");
        break;
      }
    const bool int8 = m_.is_int8();
    const ActShape in = model_input_shape(m_);
    const int32_t input = b_.add_tensor("features", nhwc(in), tfl::kFloat32);
    int32_t x = normalise(input, in);
    if (int8) {
      const int32_t q =
          b_.add_tensor("features_q", nhwc(in), tfl::kInt8, 0, to_quant(m_.input_quant));
      b_.add_operator(tfl::kQuantize, {x}, {q});
      x = q;
    }
    flat_ = false;
    for (const LoweredOp& n : nodes) x = emit(n, x);
    // Probabilities as [1][labels].
    const int32_t labels = static_cast<int32_t>(m_.labels.size());
    if (!flat_) {
      const QuantParams& q = nodes.back().out_quant;
      const std::vector<int32_t> shape = {1, labels};
      const int32_t shape_t = b_.add_constant("probabilities_shape", {2}, tfl::kInt32, shape);
      const int32_t y =
          b_.add_tensor("probabilities_flat", shape, int8 ? tfl::kInt8 : tfl::kFloat32, 0,
                        int8 ? to_quant(q) : tfl::Quant{});
      b_.add_operator(tfl::kReshape, {x, shape_t}, {y}, tfl::kReshapeOptions,
                      b_.reshape_options(shape));
      x = y;
    }
    int32_t out = x;
    if (int8) {
      out = b_.add_tensor("probabilities", {1, labels}, tfl::kFloat32);
      b_.add_operator(tfl::kDequantize, {x}, {out});
    }
    b_.add_metadata("tinykws", export_metadata_json(m_, "NHWC [1, frames, features, 1]"));
    r.bytes = b_.finish(
        {input}, {out},
        "tinykws keyword-spotting model (" + std::string(int8 ? "int8" : "float32") + ")");
    return r;
  }

 private:
  // (x - mean[k]) * inv_std[k] over the features axis (w), as the runtime computes it.
  int32_t normalise(int32_t x, ActShape in) {
    const std::vector<int32_t> shape = nhwc(in), cshape = {1, 1, in.w, 1};
    if (!m_.norm_mean.empty()) {
      const int32_t c = b_.add_constant("norm_mean", cshape, tfl::kFloat32, m_.norm_mean);
      const int32_t y = b_.add_tensor("features_centred", shape, tfl::kFloat32);
      b_.add_operator(tfl::kSub, {x, c}, {y}, tfl::kSubOptions,
                      b_.activation_options(tfl::kActNone));
      x = y;
    }
    if (!m_.norm_inv_std.empty()) {
      const int32_t c = b_.add_constant("norm_inv_std", cshape, tfl::kFloat32, m_.norm_inv_std);
      const int32_t y = b_.add_tensor("features_normalised", shape, tfl::kFloat32);
      b_.add_operator(tfl::kMul, {x, c}, {y}, tfl::kMulOptions,
                      b_.activation_options(tfl::kActNone));
      x = y;
    }
    return x;
  }

  [[noreturn]] void fail(const LoweredOp& n, const std::string& why) const {
    throw InputError(source_ + ": " + exporter::op_label(n) +
                     " cannot be written as TFLite: " + why);
  }

  // The output activation of node n (int8 models: with the node's quantisation).
  int32_t activation(const LoweredOp& n, const std::vector<int32_t>& shape) {
    const std::string name = "op" + std::to_string(n.first_op) + "_" + op_name(n.type);
    if (!m_.is_int8()) return b_.add_tensor(name, shape, tfl::kFloat32);
    return b_.add_tensor(name, shape, tfl::kInt8, 0, to_quant(n.out_quant));
  }

  // Weight and bias tensors of a weighted node, in TFLite's layout.
  std::pair<int32_t, int32_t> weights(const LoweredOp& n) {
    const std::string p = "op" + std::to_string(n.first_op);
    const int oc = n.out.c, ic = n.in.c, kh = n.win.kh, kw = n.win.kw;
    std::vector<int32_t> wshape;
    int32_t qdim = 0;
    if (n.type == OpType::kConv2D) {
      wshape = {oc, kh, kw, ic};
    } else if (n.type == OpType::kDepthwiseConv2D) {
      wshape = {1, kh, kw, ic};
      qdim = 3;  // per-channel scales run along the last dimension of a depthwise filter
    } else {
      wshape = {oc, static_cast<int32_t>(n.in.size())};
    }
    auto layout = [&](const auto& w) {
      return n.type == OpType::kConv2D            ? conv_ohwi(w, oc, ic, kh, kw)
             : n.type == OpType::kDepthwiseConv2D ? depthwise_hwc(w, ic, kh, kw)
                                                  : w;
    };
    if (!m_.is_int8()) {
      return {b_.add_constant(p + "_weight", wshape, tfl::kFloat32, layout(n.w)),
              b_.add_constant(p + "_bias", {oc}, tfl::kFloat32, n.b)};
    }
    if (n.type == OpType::kDense && n.w_q->quant.axis >= 0 && n.w_q->quant.scale.size() > 1)
      fail(n,
           "per-channel FULLY_CONNECTED weights (TFLite int8 takes per-tensor dense weights, "
           "and Arm NN aborts on per-channel ones); quantise the dense layer per tensor");
    return {b_.add_constant(p + "_weight", wshape, tfl::kInt8, layout(n.w_q->i8),
                            to_quant(n.w_q->quant, qdim)),
            b_.add_constant(p + "_bias", {oc}, tfl::kInt32, n.b_q->i32, to_quant(n.b_q->quant))};
  }

  int32_t emit(const LoweredOp& n, int32_t x) {
    const tfl::Activation act = n.relu ? tfl::kActRelu : tfl::kActNone;
    const tfl::PaddingType pad = n.op->padding == Padding::kSame ? tfl::kSame : tfl::kValid;
    const bool windowed =
        n.type != OpType::kDense && n.type != OpType::kSoftmax && n.type != OpType::kRelu;
    if (flat_ && windowed)
      fail(n, "it follows a FULLY_CONNECTED layer, whose output has no spatial axes here");
    switch (n.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D: {
        const bool dw = n.type == OpType::kDepthwiseConv2D;
        auto [w, b] = weights(n);
        const int32_t y = activation(n, nhwc(n.out));
        b_.add_operator(dw ? tfl::kDepthwiseConv2D : tfl::kConv2D, {x, w, b}, {y},
                        dw ? tfl::kDepthwiseConv2DOptions : tfl::kConv2DOptions,
                        dw ? b_.depthwise_options(pad, n.win.sw, n.win.sh, act)
                           : b_.conv_options(pad, n.win.sw, n.win.sh, act));
        return y;
      }
      case OpType::kDense: {
        auto [w, b] = weights(n);
        const int32_t y = activation(n, {1, n.out.c});
        b_.add_operator(tfl::kFullyConnected, {x, w, b}, {y}, tfl::kFullyConnectedOptions,
                        b_.activation_options(act));
        flat_ = true;
        return y;
      }
      case OpType::kBatchNorm: {  // float models only (int8 models have none, quantize.h)
        const std::string p = "op" + std::to_string(n.first_op);
        const std::vector<int32_t> cshape = {1, 1, 1, n.in.c};
        const int32_t s = b_.add_constant(p + "_scale", cshape, tfl::kFloat32, n.w);
        const int32_t t = b_.add_constant(p + "_shift", cshape, tfl::kFloat32, n.b);
        const int32_t mid = b_.add_tensor(p + "_scaled", nhwc(n.out), tfl::kFloat32);
        b_.add_operator(tfl::kMul, {x, s}, {mid}, tfl::kMulOptions,
                        b_.activation_options(tfl::kActNone));
        const int32_t y = activation(n, nhwc(n.out));
        b_.add_operator(tfl::kAdd, {mid, t}, {y}, tfl::kAddOptions, b_.activation_options(act));
        return y;
      }
      case OpType::kRelu: {
        const int32_t y = activation(n, flat_ ? std::vector<int32_t>{1, n.out.c} : nhwc(n.out));
        b_.add_operator(tfl::kRelu, {x}, {y});
        return y;
      }
      case OpType::kMaxPool2D:
      case OpType::kAvgPool2D: {
        const int32_t y = activation(n, nhwc(n.out));
        b_.add_operator(n.type == OpType::kMaxPool2D ? tfl::kMaxPool2D : tfl::kAveragePool2D, {x},
                        {y}, tfl::kPool2DOptions,
                        b_.pool_options(pad, n.win.sw, n.win.sh, n.win.kw, n.win.kh));
        return y;
      }
      case OpType::kGlobalAvgPool: {
        const std::vector<int32_t> axes = {1, 2};
        const int32_t a =
            b_.add_constant("op" + std::to_string(n.first_op) + "_axes", {2}, tfl::kInt32, axes);
        const int32_t y = activation(n, nhwc(n.out));
        b_.add_operator(tfl::kMean, {x, a}, {y}, tfl::kReducerOptions, b_.reducer_options(true));
        return y;
      }
      case OpType::kSoftmax: {
        if (!flat_ && (n.in.h != 1 || n.in.w != 1))
          fail(n,
               "softmax at each of several positions; tinykws exports a softmax over the "
               "class scores only");
        const int32_t y = activation(n, flat_ ? std::vector<int32_t>{1, n.out.c} : nhwc(n.out));
        b_.add_operator(tfl::kSoftmax, {x}, {y}, tfl::kSoftmaxOptions, b_.softmax_options(1.0f));
        return y;
      }
      default:
        fail(n, "no TFLite operator for it");
    }
  }

  const Model& m_;
  const std::string& source_;
  tfl::Builder b_;
  bool flat_ = false;  // the current activation is [1][c] (after FULLY_CONNECTED)
};

}  // namespace

ExportResult export_tflite(const Model& m, const std::string& source) {
  return TfliteExporter(m, source).run();
}

}  // namespace tkws
