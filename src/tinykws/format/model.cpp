// Model IR helpers and the structural check (model.h). Shape rules live here only; the
// runtime planner calls op_output_shape() too.
#include "tinykws/format/model.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>
#include <unordered_set>

#include "tinykws/common/utf8.h"

namespace tkws {
namespace {

// Indexed by OpType value; entry 0 is unused (enum values start at 1).
constexpr const char* kOpNames[] = {
    "?",         "Conv2D",    "DepthwiseConv2D", "BatchNorm", "Relu",
    "MaxPool2D", "AvgPool2D", "GlobalAvgPool",   "Dense",     "Softmax",
};
static_assert(std::size(kOpNames) == static_cast<size_t>(OpType::kCount),
              "kOpNames must have one entry per OpType");

// Upper bounds that keep every size computation far from overflow.
constexpr int64_t kMaxActivation = int64_t{1} << 28;  // floats in one activation
constexpr int32_t kMaxWindow = 1024;                  // kernel and stride, per axis
constexpr size_t kMaxRank = 8;

std::string op_prefix(const Model& m, size_t i) {
  return "op " + std::to_string(i) + " (" + op_name(m.ops[i].type) + "): ";
}

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

std::string dims_str(const std::vector<int32_t>& d) {
  std::string s;
  for (int32_t v : d) {
    s += '[';
    s += std::to_string(v);
    s += ']';
  }
  return d.empty() ? "[] (scalar)" : s;
}

const char* op_name(OpType t) {
  const auto i = static_cast<size_t>(t);
  return i > 0 && i < std::size(kOpNames) ? kOpNames[i] : "?";
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32:
      return "f32";
    case DType::kF16:
      return "f16";
    case DType::kI8:
      return "i8";
    case DType::kI32:
      return "i32";
  }
  return "?";
}

size_t dtype_bytes(DType t) {
  switch (t) {
    case DType::kF32:
      return 4;
    case DType::kF16:
      return 2;
    case DType::kI8:
      return 1;
    case DType::kI32:
      return 4;
  }
  return 0;
}

const char* encoding_name(Encoding e) {
  switch (e) {
    case Encoding::kDense:
      return "dense";
    case Encoding::kClustered:
      return "clustered";
    case Encoding::kSparse:
      return "sparse";
    case Encoding::kSparseClustered:
      return "sparse_clustered";
  }
  return "?";
}

size_t Tensor::numel() const {
  size_t n = 1;
  for (int32_t d : shape) {
    if (d <= 0) return 0;
    n *= static_cast<size_t>(d);
  }
  return n;
}

int Model::find_tensor(const std::string& name) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name) return static_cast<int>(i);
  return -1;
}

ActShape model_input_shape(const Model& m) {
  return ActShape{m.frontend.num_frames(), m.frontend.num_features(), 1};
}

void tf_padding(int in, int kernel, int stride, Padding p, int32_t* out, int32_t* before,
                int32_t* after) {
  if (p == Padding::kSame) {
    const int64_t o = ceil_div(in, stride);  // int64: no overflow for any int input
    const int64_t total = std::max<int64_t>((o - 1) * stride + kernel - in, 0);
    *out = static_cast<int32_t>(o);
    *before = static_cast<int32_t>(total / 2);
    *after = static_cast<int32_t>(total - total / 2);
  } else {
    *out = in >= kernel ? (in - kernel) / stride + 1 : 0;
    *before = *after = 0;
  }
}

Window op_window(const Op& op, ActShape in) {
  Window w;
  w.kh = op.kernel_h;
  w.kw = op.kernel_w;
  w.sh = op.stride_h;
  w.sw = op.stride_w;
  if (w.kh < 1 || w.kw < 1 || w.sh < 1 || w.sw < 1) return w;  // out_h = out_w = 0
  int32_t after = 0;
  tf_padding(in.h, w.kh, w.sh, op.padding, &w.out_h, &w.pad_top, &after);
  tf_padding(in.w, w.kw, w.sw, op.padding, &w.out_w, &w.pad_left, &after);
  return w;
}

void normalise_features(float* x, size_t rows, int num_features, const float* mean,
                        const float* inv_std) noexcept {
  const size_t nf = num_features > 0 ? static_cast<size_t>(num_features) : 0;
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * nf;
    if (mean)
      for (size_t k = 0; k < nf; ++k) row[k] -= mean[k];
    if (inv_std)
      for (size_t k = 0; k < nf; ++k) row[k] *= inv_std[k];
  }
}

std::string op_output_shape(const Model& m, size_t op_index, ActShape in, ActShape* out) {
  if (op_index >= m.ops.size()) return "op " + std::to_string(op_index) + ": no such op";
  const Op& op = m.ops[op_index];
  const std::string where = op_prefix(m, op_index);
  if (static_cast<size_t>(op.type) == 0 || static_cast<size_t>(op.type) >= std::size(kOpNames))
    return where + "unknown op type " + std::to_string(static_cast<int>(op.type));

  // Tensor list: how many each op takes, then expected shapes of those present.
  size_t min_t = 0, max_t = 0;
  switch (op.type) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D:
    case OpType::kDense:
      min_t = 1, max_t = 2;
      break;  // weight [, bias]
    case OpType::kBatchNorm:
      min_t = max_t = 2;
      break;  // scale, shift
    default:
      break;
  }
  if (op.tensors.size() < min_t || op.tensors.size() > max_t) {
    const std::string want = min_t == max_t
                                 ? std::to_string(min_t)
                                 : std::to_string(min_t) + " or " + std::to_string(max_t);
    return where + "expected " + want + " tensors, found " + std::to_string(op.tensors.size());
  }
  for (uint32_t t : op.tensors)
    if (t >= m.tensors.size())
      return where + "expected tensor index < " + std::to_string(m.tensors.size()) + ", found " +
             std::to_string(t);
  auto expect = [&](size_t k, const char* role, std::vector<int32_t> want) -> std::string {
    if (k >= op.tensors.size()) return {};
    const Tensor& t = m.tensors[op.tensors[k]];
    if (t.shape == want) return {};
    return where + "expected " + role + " '" + t.name + "' " + dims_str(want) + ", found " +
           dims_str(t.shape);
  };
  auto window_op = [&]() -> std::string {
    if (op.kernel_h < 1 || op.kernel_w < 1 || op.kernel_h > kMaxWindow || op.kernel_w > kMaxWindow)
      return where + "expected kernel in [1, " + std::to_string(kMaxWindow) + "], found " +
             std::to_string(op.kernel_h) + "x" + std::to_string(op.kernel_w);
    if (op.stride_h < 1 || op.stride_w < 1 || op.stride_h > kMaxWindow || op.stride_w > kMaxWindow)
      return where + "expected stride in [1, " + std::to_string(kMaxWindow) + "], found " +
             std::to_string(op.stride_h) + "x" + std::to_string(op.stride_w);
    if (op.padding != Padding::kSame && op.padding != Padding::kValid)
      return where + "unknown padding " + std::to_string(static_cast<int>(op.padding));
    const Window w = op_window(op, in);
    if (w.out_h < 1 || w.out_w < 1)
      return where + "expected input of at least " + std::to_string(op.kernel_h) + "x" +
             std::to_string(op.kernel_w) + " for valid padding, found " + std::to_string(in.h) +
             "x" + std::to_string(in.w);
    out->h = w.out_h;
    out->w = w.out_w;
    return {};
  };

  *out = in;
  std::string e;
  switch (op.type) {
    case OpType::kConv2D: {
      const auto& ws = m.tensors[op.tensors[0]].shape;
      const int32_t oc = ws.size() == 4 ? ws[0] : op.out_channels;
      if (oc < 1)
        return where + "expected weight [out][" + std::to_string(in.c) + "][kh][kw], found " +
               dims_str(ws);
      if (op.out_channels != 0 && op.out_channels != oc)
        return where + "expected out_channels " + std::to_string(oc) + " (weight dim 0), found " +
               std::to_string(op.out_channels);
      if (!(e = expect(0, "weight", {oc, in.c, op.kernel_h, op.kernel_w})).empty()) return e;
      if (!(e = expect(1, "bias", {oc})).empty()) return e;
      if (!(e = window_op()).empty()) return e;
      out->c = oc;
      break;
    }
    case OpType::kDepthwiseConv2D:
      if (!(e = expect(0, "weight", {in.c, 1, op.kernel_h, op.kernel_w})).empty()) return e;
      if (!(e = expect(1, "bias", {in.c})).empty()) return e;
      if (!(e = window_op()).empty()) return e;
      break;
    case OpType::kBatchNorm:
      if (!(e = expect(0, "scale", {in.c})).empty()) return e;
      if (!(e = expect(1, "shift", {in.c})).empty()) return e;
      break;
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D:
      if (!(e = window_op()).empty()) return e;
      break;
    case OpType::kGlobalAvgPool:
      *out = ActShape{1, 1, in.c};
      break;
    case OpType::kDense: {
      const auto& ws = m.tensors[op.tensors[0]].shape;
      const int64_t n_in = static_cast<int64_t>(in.h) * in.w * in.c;
      const int32_t units = ws.size() == 2 ? ws[0] : op.out_channels;
      if (units < 1 || n_in > INT32_MAX)
        return where + "expected weight [units][" + std::to_string(n_in) + "], found " +
               dims_str(ws);
      if (op.out_channels != 0 && op.out_channels != units)
        return where + "expected out_channels " + std::to_string(units) +
               " (weight dim 0), found " + std::to_string(op.out_channels);
      if (!(e = expect(0, "weight", {units, static_cast<int32_t>(n_in)})).empty()) return e;
      if (!(e = expect(1, "bias", {units})).empty()) return e;
      *out = ActShape{1, 1, units};
      break;
    }
    case OpType::kRelu:
    case OpType::kSoftmax:
    case OpType::kCount:
      break;
  }
  if (static_cast<int64_t>(out->h) * out->w * out->c > kMaxActivation)
    return where + "output " + std::to_string(out->h) + "x" + std::to_string(out->w) + "x" +
           std::to_string(out->c) + " exceeds " + std::to_string(kMaxActivation) + " values";
  return {};
}

namespace {

std::string check_tensor(const Tensor& t, size_t i) {
  const std::string where = "tensor " + std::to_string(i) + " '" + t.name + "': ";
  if (t.name.empty()) return "tensor " + std::to_string(i) + ": expected a non-empty name";
  if (!is_utf8_text(t.name))
    return "tensor " + std::to_string(i) +
           ": expected a name of UTF-8 text without control characters";
  if (t.shape.size() > kMaxRank)
    return where + "expected at most " + std::to_string(kMaxRank) + " dims, found " +
           std::to_string(t.shape.size());
  for (int32_t d : t.shape)
    if (d < 1) return where + "expected dims >= 1, found " + dims_str(t.shape);
  uint64_t n = 1;
  for (int32_t d : t.shape) {
    n *= static_cast<uint64_t>(d);
    if (n > static_cast<uint64_t>(kMaxActivation))
      return where + "expected at most " + std::to_string(kMaxActivation) + " elements, found " +
             dims_str(t.shape);
  }
  if (dtype_bytes(t.dtype) == 0)
    return where + "unknown dtype " + std::to_string(static_cast<int>(t.dtype));
  if (encoding_name(t.encoding)[0] == '?')
    return where + "unknown encoding " + std::to_string(static_cast<int>(t.encoding));
  const bool is_float = t.dtype == DType::kF32 || t.dtype == DType::kF16;
  const size_t nf = is_float ? n : 0, n8 = t.dtype == DType::kI8 ? n : 0,
               n32 = t.dtype == DType::kI32 ? n : 0;
  if (t.f32.size() != nf || t.i8.size() != n8 || t.i32.size() != n32)
    return where + "dtype " + dtype_name(t.dtype) + " with shape " + dims_str(t.shape) +
           ": expected " + std::to_string(nf) + "/" + std::to_string(n8) + "/" +
           std::to_string(n32) + " f32/i8/i32 values, found " + std::to_string(t.f32.size()) + "/" +
           std::to_string(t.i8.size()) + "/" + std::to_string(t.i32.size());
  const QuantParams& q = t.quant;
  if (q.zero_point.size() != q.scale.size())
    return where + "expected as many zero points as scales (" + std::to_string(q.scale.size()) +
           "), found " + std::to_string(q.zero_point.size());
  if (q.axis < -1 || q.axis >= static_cast<int32_t>(t.shape.size()))
    return where + "expected quant axis in [-1, " + std::to_string(t.shape.size() - 1) +
           "], found " + std::to_string(q.axis);
  const size_t want_q = q.axis < 0 ? 1 : static_cast<size_t>(t.shape[q.axis]);
  if (!q.scale.empty() && q.scale.size() != want_q)
    return where + "expected " + std::to_string(want_q) + " quant scales for axis " +
           std::to_string(q.axis) + ", found " + std::to_string(q.scale.size());
  if (!is_float && q.scale.empty())
    return where + "expected quant params for integer dtype " + dtype_name(t.dtype);
  return {};
}

}  // namespace

// ---- int8 models (model.h, "int8 models") ----------------------------------------------------
// Quantisation fields: absent from float models; complete and consistent in int8 models.
// Runs after the structural checks, so tensor indices, counts and shapes are valid here.
namespace {

// Activation params: per tensor, scale finite and > 0, zero point in [-128, 127].
std::string check_act_quant(const QuantParams& q, const std::string& what) {
  if (q.scale.size() != 1 || q.zero_point.size() != 1 || q.axis != -1)
    return what + ": expected per-tensor params (1 scale, 1 zero point, axis -1), found " +
           std::to_string(q.scale.size()) + " scales, " + std::to_string(q.zero_point.size()) +
           " zero points, axis " + std::to_string(q.axis);
  if (!(std::isfinite(q.scale[0]) && q.scale[0] > 0.0f))
    return what + ": expected a finite scale > 0, found " + std::to_string(q.scale[0]);
  if (q.zero_point[0] < -128 || q.zero_point[0] > 127)
    return what + ": expected zero point in [-128, 127], found " + std::to_string(q.zero_point[0]);
  return {};
}

bool same_quant(const QuantParams& a, const QuantParams& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point && a.axis == b.axis;
}

// Weight (i8, symmetric, [-127, 127]) and bias (i32, zp 0, scale s_in * s_w) of a weighted op.
std::string check_int8_weights(const Model& m, size_t i, const QuantParams& in_q) {
  const Op& op = m.ops[i];
  const std::string where = op_prefix(m, i);
  if (op.tensors.size() != 2)
    return where + "expected weight and bias in an int8 model, found " +
           std::to_string(op.tensors.size()) + " tensors";
  const Tensor& w = m.tensors[op.tensors[0]];
  const Tensor& b = m.tensors[op.tensors[1]];
  if (w.dtype != DType::kI8)
    return where + "expected weight '" + w.name + "' of dtype i8, found " + dtype_name(w.dtype);
  if (b.dtype != DType::kI32)
    return where + "expected bias '" + b.name + "' of dtype i32, found " + dtype_name(b.dtype);
  const bool dense = op.type == OpType::kDense;
  if (!(w.quant.axis == 0 || (dense && w.quant.axis == -1)))
    return where + "expected weight '" + w.name + "' quantised per output channel (axis 0)" +
           (dense ? " or per tensor (axis -1)" : "") + ", found axis " +
           std::to_string(w.quant.axis);
  if (b.quant.axis != w.quant.axis || b.quant.scale.size() != w.quant.scale.size())
    return where + "expected bias '" + b.name + "' quantised like its weight (axis " +
           std::to_string(w.quant.axis) + ", " + std::to_string(w.quant.scale.size()) +
           " scales), found axis " + std::to_string(b.quant.axis) + ", " +
           std::to_string(b.quant.scale.size()) + " scales";
  for (size_t c = 0; c < w.quant.scale.size(); ++c) {
    const float sw = w.quant.scale[c], sb = b.quant.scale[c];
    if (!(std::isfinite(sw) && sw > 0.0f))
      return where + "weight '" + w.name + "': expected finite scales > 0, found " +
             std::to_string(sw) + " at channel " + std::to_string(c);
    if (w.quant.zero_point[c] != 0 || b.quant.zero_point[c] != 0)
      return where + "expected zero points 0 for weight and bias (symmetric), found " +
             std::to_string(w.quant.zero_point[c]) + " / " + std::to_string(b.quant.zero_point[c]) +
             " at channel " + std::to_string(c);
    // Both are floats derived from the same product: allow float rounding only.
    const double want = static_cast<double>(in_q.scale[0]) * sw;
    if (!(std::fabs(sb - want) <= 1e-5 * want))
      return where + "expected bias '" + b.name + "' scale s_in * s_w = " + std::to_string(want) +
             " at channel " + std::to_string(c) + ", found " + std::to_string(sb);
  }
  for (int8_t v : w.i8)
    if (v == -128)
      return where + "expected weight '" + w.name + "' values in [-127, 127], found -128";
  return {};
}

std::string check_int8(const Model& m) {
  if (!m.is_int8()) {
    for (size_t i = 0; i < m.ops.size(); ++i) {
      if (!m.ops[i].out_quant.empty())
        return op_prefix(m, i) + "out_quant set in a float model (input_quant is empty)";
      if (m.ops[i].fused_activation != FusedActivation::kNone)
        return op_prefix(m, i) + "fused activation set in a float model (input_quant is empty)";
    }
    return {};
  }
  if (std::string e = check_act_quant(m.input_quant, "input_quant"); !e.empty()) return e;
  for (size_t i = 0; i < m.ops.size(); ++i) {
    const Op& op = m.ops[i];
    const std::string where = op_prefix(m, i);
    const QuantParams& in_q = i == 0 ? m.input_quant : m.ops[i - 1].out_quant;
    if (std::string e = check_act_quant(op.out_quant, where + "out_quant"); !e.empty()) return e;
    const bool weighted = op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D ||
                          op.type == OpType::kDense;
    if (op.fused_activation != FusedActivation::kNone &&
        (op.fused_activation != FusedActivation::kRelu || !weighted))
      return where +
             "expected no fused activation (only Conv2D, DepthwiseConv2D, Dense take "
             "Relu), found " +
             std::to_string(static_cast<int>(op.fused_activation));
    switch (op.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D:
      case OpType::kDense:
        if (std::string e = check_int8_weights(m, i, in_q); !e.empty()) return e;
        break;
      case OpType::kBatchNorm:
        return where + "not allowed in an int8 model (fold it into the preceding op)";
      case OpType::kMaxPool2D:
      case OpType::kAvgPool2D:
      case OpType::kRelu:
        if (!same_quant(op.out_quant, in_q))
          return where + "expected out_quant equal to its input's (scale " +
                 std::to_string(in_q.scale[0]) + ", zero point " +
                 std::to_string(in_q.zero_point[0]) + "), found scale " +
                 std::to_string(op.out_quant.scale[0]) + ", zero point " +
                 std::to_string(op.out_quant.zero_point[0]);
        break;
      case OpType::kSoftmax:
        if (op.out_quant.scale[0] != 1.0f / 256.0f || op.out_quant.zero_point[0] != -128)
          return where + "expected out_quant scale 1/256, zero point -128, found scale " +
                 std::to_string(op.out_quant.scale[0]) + ", zero point " +
                 std::to_string(op.out_quant.zero_point[0]);
        break;
      case OpType::kGlobalAvgPool:
      case OpType::kCount:
        break;
    }
  }
  return {};
}

std::string detector_range(const char* field, double v, const char* range) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return std::string("detector.") + field + " = " + buf + " must be in " + range;
}

// Keyword flags and per-label thresholds against the labels (DetectorSettings::check() does
// the rest).
std::string check_keywords(const Model& m) {
  const size_t n = m.labels.size();
  if (!m.keyword_flags.empty() && m.keyword_flags.size() != n)
    return "keyword_flags: expected 0 or " + std::to_string(n) + " values (one per label), found " +
           std::to_string(m.keyword_flags.size());
  for (size_t i = 0; i < m.keyword_flags.size(); ++i)
    if (m.keyword_flags[i] > 1)
      return "keyword_flags[" + std::to_string(i) + "] ('" + m.labels[i] +
             "'): expected 0 or 1, found " + std::to_string(m.keyword_flags[i]);
  if (!m.detector.thresholds.empty() && m.detector.thresholds.size() != n)
    return "detector.thresholds: expected 0 or " + std::to_string(n) +
           " values (one per label), found " + std::to_string(m.detector.thresholds.size());
  return {};
}

}  // namespace

std::string DetectorSettings::check() const {
  auto in = [](double v, double lo, double hi) { return v >= lo && v <= hi; };  // NaN fails
  if (!in(hop_ms, 1, 5000)) return detector_range("hop_ms", hop_ms, "[1, 5000] ms");
  if (!in(smoothing_ms, 0, 10000))
    return detector_range("smoothing_ms", smoothing_ms, "[0, 10000] ms");
  if (!in(threshold, 0, 1)) return detector_range("threshold", threshold, "[0, 1]");
  for (size_t i = 0; i < thresholds.size(); ++i)
    if (!in(thresholds[i], 0, 1))
      return detector_range(("thresholds[" + std::to_string(i) + "]").c_str(), thresholds[i],
                            "[0, 1]");
  if (!in(min_hops, 1, 1000)) return detector_range("min_hops", min_hops, "[1, 1000]");
  if (!in(refractory_ms, 0, 60000))
    return detector_range("refractory_ms", refractory_ms, "[0, 60000] ms");
  if (!in(gate_dbfs, -120, 0)) return detector_range("gate_dbfs", gate_dbfs, "[-120, 0] dBFS");
  if (!in(gate_min_speech_ms, 0, 10000))
    return detector_range("gate_min_speech_ms", gate_min_speech_ms, "[0, 10000] ms");
  if (!in(gate_hangover_ms, 0, 60000))
    return detector_range("gate_hangover_ms", gate_hangover_ms, "[0, 60000] ms");
  return {};
}

std::string check_model(const Model& m) {
  if (std::string e = m.frontend.check(); !e.empty()) return "front end: " + e;
  if (m.labels.empty()) return "labels: expected at least 1, found 0";
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < m.labels.size(); ++i) {
    if (m.labels[i].empty()) return "label " + std::to_string(i) + ": expected a non-empty name";
    if (!is_utf8_text(m.labels[i]))
      return "label " + std::to_string(i) + ": expected UTF-8 text without control characters";
    if (!seen.insert(m.labels[i]).second)
      return "label " + std::to_string(i) + " '" + m.labels[i] + "': duplicate name";
  }
  const ActShape input = model_input_shape(m);
  const size_t nf = static_cast<size_t>(input.w);
  if (!m.norm_mean.empty() && m.norm_mean.size() != nf)
    return "norm_mean: expected 0 or " + std::to_string(nf) + " values (num_features), found " +
           std::to_string(m.norm_mean.size());
  if (!m.norm_inv_std.empty() && m.norm_inv_std.size() != nf)
    return "norm_inv_std: expected 0 or " + std::to_string(nf) + " values (num_features), found " +
           std::to_string(m.norm_inv_std.size());

  seen.clear();
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    if (std::string e = check_tensor(m.tensors[i], i); !e.empty()) return e;
    if (!seen.insert(m.tensors[i].name).second)
      return "tensor " + std::to_string(i) + " '" + m.tensors[i].name + "': duplicate name";
  }

  if (m.ops.empty()) return "ops: expected at least 1, found 0";
  ActShape shape = input;
  for (size_t i = 0; i < m.ops.size(); ++i) {
    ActShape next;
    if (std::string e = op_output_shape(m, i, shape, &next); !e.empty()) return e;
    shape = next;
  }
  if (shape.size() != m.labels.size())
    return "output: expected " + std::to_string(m.labels.size()) +
           " values (one per label), found " + std::to_string(shape.h) + "x" +
           std::to_string(shape.w) + "x" + std::to_string(shape.c) + " = " +
           std::to_string(shape.size());
  if (std::string e = check_int8(m); !e.empty()) return e;
  if (std::string e = check_keywords(m); !e.empty()) return e;
  if (std::string e = m.detector.check(); !e.empty()) return e;
  return {};
}

}  // namespace tkws
