// Post-training int8 quantisation (quantize.h; TFLite scheme, docs/training.md):
//  1. group the ops: Conv2D / DepthwiseConv2D / Dense [+ BatchNorm] [+ Relu] become one op
//     (weighted, MaxPool2D, BatchNorm with scales >= 0 [, Relu] reordered first so that this
//     applies); any other BatchNorm with no weighted op before it [+ Relu] becomes a 1x1
//     DepthwiseConv2D with weight = scale and bias = shift (y = scale[c] * x + shift[c]);
//  2. calibrate: run the float model op by op with the reference kernels (runtime/ops.h) over
//     the calibration inputs, recording min / max of the input and of every op output;
//  3. activations: asymmetric int8 per tensor from the ranges (nudged to include 0); weights:
//     BatchNorm folded, symmetric int8 per output channel (per tensor for Dense); biases int32.
#include "tinykws/compress/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "tinykws/format/tkws.h"
#include "tinykws/runtime/ops.h"

namespace tkws {
namespace {

[[noreturn]] void fail(const std::string& msg) {
  throw std::invalid_argument("quantize_int8: " + msg);
}

std::string op_where(const Model& m, size_t i) {
  return "op " + std::to_string(i) + " (" + op_name(m.ops[i].type) + ")";
}

bool is_weighted(OpType t) {
  return t == OpType::kConv2D || t == OpType::kDepthwiseConv2D || t == OpType::kDense;
}

struct Range {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  void add(const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
  }
};

// A weighted op, MaxPool2D, BatchNorm with every scale >= 0 [, Relu] (seed-b's blocks) is
// reordered to weighted op, BatchNorm [, Relu], MaxPool2D, so that the BatchNorm folds into the
// weights and the ReLU fuses. Exact, also in float arithmetic: y -> fl(scale * y + shift) and
// ReLU are non-decreasing per channel, so they commute with a max over any window (padded
// cells are ignored by the pool either way). The alternative, a 1x1 depthwise convolution,
// quantises the conv output per tensor before the per-channel scale: a channel with a large
// scale then sees only a few input steps. Returns m's ops reordered (tensors unchanged).
std::vector<Op> commute_pool_batchnorm(const Model& m) {
  std::vector<Op> ops = m.ops;
  for (size_t i = 0; i + 2 < ops.size(); ++i) {
    if (!is_weighted(ops[i].type) || ops[i + 1].type != OpType::kMaxPool2D ||
        ops[i + 2].type != OpType::kBatchNorm)
      continue;
    const std::vector<float>& scale = m.tensors[ops[i + 2].tensors[0]].f32;
    if (!std::all_of(scale.begin(), scale.end(), [](float s) { return s >= 0.0f; })) continue;
    const size_t end = i + 3 < ops.size() && ops[i + 3].type == OpType::kRelu ? i + 4 : i + 3;
    std::rotate(ops.begin() + static_cast<std::ptrdiff_t>(i + 1),
                ops.begin() + static_cast<std::ptrdiff_t>(i + 2),
                ops.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return ops;
}

// One op of the int8 model: model ops [first, last] (a weighted op with the BatchNorm and Relu
// that follow it, a standalone BatchNorm with the Relu that follows it, or a single op).
struct Group {
  size_t first = 0, last = 0;
  size_t bn = SIZE_MAX;  // index of the BatchNorm op (folded, or standalone = first), if any
  bool relu = false;
};

std::vector<Group> group_ops(const Model& m) {
  std::vector<Group> groups;
  const size_t n = m.ops.size();
  for (size_t i = 0; i < n;) {
    Group g;
    g.first = g.last = i;
    const OpType t = m.ops[i].type;
    if (t == OpType::kBatchNorm) {
      g.bn = i;
    } else if (is_weighted(t) && g.last + 1 < n && m.ops[g.last + 1].type == OpType::kBatchNorm) {
      g.bn = ++g.last;
    }
    if ((is_weighted(t) || t == OpType::kBatchNorm) && g.last + 1 < n &&
        m.ops[g.last + 1].type == OpType::kRelu) {
      g.relu = true;
      ++g.last;
    }
    groups.push_back(g);
    i = g.last + 1;
  }
  return groups;
}

// The float weights of a weighted group with its BatchNorm folded (in double):
// w'[o][j] = w[o][j] * scale[o], b'[o] = b[o] * scale[o] + shift[o]. A standalone BatchNorm
// is the 1x1 depthwise convolution w' = scale [ch][1][1][1], b' = shift.
struct FoldedWeights {
  std::vector<int32_t> shape;  // model.h layout; axis 0 = output channel
  std::vector<double> w, b;    // [shape], [shape[0]]
  std::string w_name, b_name;  // b_name empty: the float op has no bias
};

FoldedWeights fold_weights(const Model& m, const Group& g) {
  const Op& src = m.ops[g.first];
  const float* scale = g.bn != SIZE_MAX ? m.tensors[m.ops[g.bn].tensors[0]].f32.data() : nullptr;
  const float* shift = g.bn != SIZE_MAX ? m.tensors[m.ops[g.bn].tensors[1]].f32.data() : nullptr;
  FoldedWeights f;
  if (src.type == OpType::kBatchNorm) {
    const Tensor& s = m.tensors[src.tensors[0]];
    const auto ch = static_cast<int32_t>(s.numel());
    f.shape = {ch, 1, 1, 1};
    f.w.assign(scale, scale + ch);
    f.b.assign(shift, shift + ch);
    f.w_name = s.name;
    f.b_name = m.tensors[src.tensors[1]].name;
    return f;
  }
  const Tensor& w = m.tensors[src.tensors[0]];
  const Tensor* b = src.tensors.size() > 1 ? &m.tensors[src.tensors[1]] : nullptr;
  const auto oc = static_cast<size_t>(w.shape[0]);
  const size_t per = w.numel() / oc;
  f.shape = w.shape;
  f.w.resize(w.numel());
  f.b.resize(oc);
  for (size_t o = 0; o < oc; ++o) {
    const double sc = scale ? scale[o] : 1.0;
    for (size_t j = 0; j < per; ++j) f.w[o * per + j] = w.f32[o * per + j] * sc;
    f.b[o] = (b ? b->f32[o] : 0.0) * sc + (shift ? shift[o] : 0.0);
  }
  f.w_name = w.name;
  if (b) f.b_name = b->name;
  return f;
}

// Min / max of the network input (ranges[0]) and of every op's output (ranges[i + 1]) over the
// calibration inputs, from a float forward pass with the reference kernels.
std::vector<Range> calibrate(const Model& m, const float* calib, int n) {
  const size_t n_ops = m.ops.size();
  std::vector<ActShape> shapes(n_ops + 1);
  shapes[0] = model_input_shape(m);
  size_t max_act = shapes[0].size();
  for (size_t i = 0; i < n_ops; ++i) {
    if (std::string e = op_output_shape(m, i, shapes[i], &shapes[i + 1]); !e.empty()) fail(e);
    max_act = std::max(max_act, shapes[i + 1].size());
  }
  std::vector<KernelArgs> args(n_ops);
  std::vector<KernelFn> fns(n_ops);
  for (size_t i = 0; i < n_ops; ++i) {
    const Op& op = m.ops[i];
    const OpInfo* info = op_info(op.type);
    if (!info || !info->reference) fail(op_where(m, i) + ": no reference kernel");
    fns[i] = info->reference;
    KernelArgs& a = args[i];
    a.in = shapes[i];
    a.out = shapes[i + 1];
    a.win = op_window(op, shapes[i]);
    if (op.tensors.size() > 0) a.w = m.tensors[op.tensors[0]].f32.data();
    if (op.tensors.size() > 1) a.b = m.tensors[op.tensors[1]].f32.data();
  }
  std::vector<Range> ranges(n_ops + 1);
  std::vector<float> buf[2] = {std::vector<float>(max_act), std::vector<float>(max_act)};
  const size_t in_size = shapes[0].size();
  for (int s = 0; s < n; ++s) {
    const float* x = calib + static_cast<size_t>(s) * in_size;
    ranges[0].add(x, in_size);
    const float* src = x;
    for (size_t i = 0; i < n_ops; ++i) {
      float* dst = buf[i % 2].data();
      fns[i](args[i], src, dst, nullptr);
      ranges[i + 1].add(dst, shapes[i + 1].size());
      src = dst;
    }
  }
  for (size_t i = 0; i <= n_ops; ++i)
    if (!std::isfinite(ranges[i].lo) || !std::isfinite(ranges[i].hi))
      fail((i == 0 ? std::string("input") : op_where(m, i - 1) + " output") +
           ": calibration range is not finite (NaN or infinite activations)");
  return ranges;
}

QuantParams per_tensor(float scale, int32_t zero_point) {
  QuantParams q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  q.axis = -1;
  return q;
}

// Asymmetric int8 params for the real range [lo, hi] (TFLite's asymmetric rule): the range is
// first widened to include 0; scale = (hi - lo) / 255; the zero point qmin - lo / scale (or
// qmax - hi / scale, whichever has the smaller error) rounded and clamped to [-128, 127], so
// real 0 is exactly q = zero_point. A point range {0} gives scale 1, zero point 0.
QuantParams activation_quant(Range r) {
  const double lo = std::min<double>(r.lo, 0.0), hi = std::max<double>(r.hi, 0.0);
  if (hi == lo) return per_tensor(1.0f, 0);
  constexpr double qmin = -128.0, qmax = 127.0;
  const double scale = (hi - lo) / (qmax - qmin);
  const double zp_from_min = qmin - lo / scale, zp_from_max = qmax - hi / scale;
  const double err_min = std::fabs(qmin) + std::fabs(lo / scale);
  const double err_max = std::fabs(qmax) + std::fabs(hi / scale);
  const double zp = err_min < err_max ? zp_from_min : zp_from_max;
  const double nudged = zp < qmin ? qmin : zp > qmax ? qmax : std::round(zp);
  return per_tensor(static_cast<float>(scale), static_cast<int32_t>(nudged));
}

std::string unique_name(std::string name, std::unordered_set<std::string>* used) {
  while (used->count(name)) name += "_q";
  used->insert(name);
  return name;
}

}  // namespace

Model quantize_int8(const Model& float_model, const float* calib, int n) {
  if (std::string e = check_model(float_model); !e.empty()) fail(e);
  if (float_model.is_int8()) fail("the model is already int8");
  Model reordered = float_model;
  reordered.ops = commute_pool_batchnorm(float_model);
  const Model& m = reordered;
  if (!calib || n < 1) fail("expected at least 1 calibration input, found " + std::to_string(n));
  for (const Op& op : m.ops)
    for (uint32_t t : op.tensors)
      if (m.tensors[t].dtype != DType::kF32 && m.tensors[t].dtype != DType::kF16)
        fail("tensor '" + m.tensors[t].name + "': expected a float tensor, found dtype " +
             dtype_name(m.tensors[t].dtype));

  const std::vector<Group> groups = group_ops(m);
  const std::vector<Range> ranges = calibrate(m, calib, n);

  Model q;
  q.frontend = m.frontend;
  q.labels = m.labels;
  q.norm_mean = m.norm_mean;
  q.norm_inv_std = m.norm_inv_std;
  q.metadata_json = m.metadata_json;
  q.keyword_flags = m.keyword_flags;  // format v3: streaming detection is unchanged by int8
  q.detector = m.detector;
  q.input_quant = activation_quant(ranges[0]);
  std::unordered_set<std::string> used;

  QuantParams in_q = q.input_quant;  // the current op's input params
  for (const Group& g : groups) {
    const Op& src = m.ops[g.first];
    Op op = src;
    op.tensors.clear();
    switch (src.type) {
      case OpType::kMaxPool2D:  // TFLite: same params as the input
      case OpType::kAvgPool2D:
      case OpType::kRelu:
        op.out_quant = in_q;
        break;
      case OpType::kSoftmax:
        op.out_quant = per_tensor(1.0f / 256.0f, -128);
        break;
      default:
        op.out_quant = activation_quant(ranges[g.last + 1]);
        break;
    }

    if (src.type == OpType::kBatchNorm) {  // standalone: a 1x1 depthwise convolution
      op.type = OpType::kDepthwiseConv2D;
      op.kernel_h = op.kernel_w = op.stride_h = op.stride_w = 1;
      op.padding = Padding::kValid;
      op.out_channels = static_cast<int32_t>(m.tensors[src.tensors[0]].numel());
    }
    if (is_weighted(op.type)) {
      op.fused_activation = g.relu ? FusedActivation::kRelu : FusedActivation::kNone;
      const FoldedWeights f = fold_weights(m, g);
      const std::vector<double>& wf = f.w;
      const std::vector<double>& bf = f.b;
      // Axis 0 is the output channel of every weight layout (model.h).
      const auto oc = static_cast<size_t>(f.shape[0]);
      const size_t per = wf.size() / oc;

      // Weight scales: max |w'| / 127 per output channel (per tensor for Dense). A channel of
      // zeros takes the largest scale of the tensor (any scale represents it; this one keeps
      // its bias as precise as the others'), 1 if the whole tensor is zero.
      const bool per_channel = op.type != OpType::kDense;
      std::vector<float> sw(per_channel ? oc : 1, 0.0f);
      for (size_t o = 0; o < oc; ++o)
        for (size_t j = 0; j < per; ++j) {
          float& s = sw[per_channel ? o : 0];
          s = std::max(s, static_cast<float>(std::fabs(wf[o * per + j]) / 127.0));
        }
      const float max_s = *std::max_element(sw.begin(), sw.end());
      for (float& s : sw)
        if (s == 0.0f) s = max_s > 0.0f ? max_s : 1.0f;

      Tensor wq;
      wq.name = unique_name(f.w_name, &used);
      wq.shape = f.shape;
      wq.dtype = DType::kI8;
      wq.i8.resize(wf.size());
      wq.quant.scale = sw;
      wq.quant.zero_point.assign(sw.size(), 0);
      wq.quant.axis = per_channel ? 0 : -1;
      for (size_t o = 0; o < oc; ++o) {
        const double s = sw[per_channel ? o : 0];
        for (size_t j = 0; j < per; ++j) {
          const double v = std::round(wf[o * per + j] / s);
          wq.i8[o * per + j] = static_cast<int8_t>(std::clamp(v, -127.0, 127.0));
        }
      }

      // Bias: int32, scale s_in * s_w[c], zero point 0.
      Tensor bq;
      std::string bname = f.b_name.empty() ? f.w_name : f.b_name;
      if (f.b_name.empty()) {
        const std::string suffix = ".weight";
        if (bname.size() > suffix.size() &&
            bname.compare(bname.size() - suffix.size(), suffix.size(), suffix) == 0)
          bname.resize(bname.size() - suffix.size());
        bname += ".bias";
      }
      bq.name = unique_name(bname, &used);
      bq.shape = {static_cast<int32_t>(oc)};
      bq.dtype = DType::kI32;
      bq.i32.resize(oc);
      bq.quant.axis = wq.quant.axis;
      for (float s : sw)
        bq.quant.scale.push_back(static_cast<float>(double{in_q.scale[0]} * double{s}));
      bq.quant.zero_point.assign(sw.size(), 0);
      for (size_t o = 0; o < oc; ++o) {
        const double v = std::round(bf[o] / bq.quant.scale[per_channel ? o : 0]);
        bq.i32[o] = static_cast<int32_t>(std::clamp(v, -2147483647.0, 2147483647.0));
      }

      op.tensors = {static_cast<uint32_t>(q.tensors.size()),
                    static_cast<uint32_t>(q.tensors.size() + 1)};
      q.tensors.push_back(std::move(wq));
      q.tensors.push_back(std::move(bq));
    }
    q.ops.push_back(std::move(op));
    in_q = q.ops.back().out_quant;
  }
  if (std::string e = check_model(q); !e.empty()) fail("internal error, result invalid: " + e);
  return q;
}

void to_float16(Model& m) {
  for (auto& t : m.tensors) {
    if (t.dtype != DType::kF32) continue;
    for (auto& v : t.f32) v = f16_to_f32(f32_to_f16(v));
    t.dtype = DType::kF16;
  }
}

}  // namespace tkws
