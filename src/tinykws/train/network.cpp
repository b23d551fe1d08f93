#include "tinykws/train/network.h"

#include <cmath>
#include <limits>

#include "tinykws/common/error.h"

namespace tkws {

namespace F = torch::nn::functional;

namespace {

void glorot_uniform(torch::Tensor& w, int64_t fan_in, int64_t fan_out) {
  double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  torch::NoGradGuard g;
  w.uniform_(-limit, limit);
}

}  // namespace

KwsNetImpl::KwsNetImpl(const ModelConfig& cfg, int frames, int features, int num_labels) {
  int c = 1, h = frames, w = features;
  for (size_t i = 0; i < cfg.layers.size(); ++i) {
    BuiltLayer L;
    L.spec = cfg.layers[i];
    auto& s = L.spec;
    L.in_c = c, L.in_h = h, L.in_w = w;
    std::string name = "layer" + std::to_string(i);
    auto fail = [&](const std::string& msg) {
      throw InputError("model.layers[" + std::to_string(i) + "] (" + layer_kind_name(s.kind) +
                       "): " + msg);
    };
    switch (s.kind) {
      case LayerKind::kConv:
      case LayerKind::kDwConv:
      case LayerKind::kPwConv: {
        int oc = s.kind == LayerKind::kDwConv ? c : cfg.scaled_filters(s.filters);
        int oh, ow;
        tf_padding(h, s.kernel_h, s.stride_h, s.padding, &oh, &L.pad_top, &L.pad_bottom);
        tf_padding(w, s.kernel_w, s.stride_w, s.padding, &ow, &L.pad_left, &L.pad_right);
        if (oh < 1 || ow < 1)
          fail("input " + std::to_string(h) + "x" + std::to_string(w) +
               " is smaller than the kernel " + std::to_string(s.kernel_h) + "x" +
               std::to_string(s.kernel_w) + " (use padding = \"same\" or fewer strides)");
        auto opt = torch::nn::Conv2dOptions(c, oc, {s.kernel_h, s.kernel_w})
                       .stride({s.stride_h, s.stride_w})
                       .bias(s.bias)
                       .groups(s.kind == LayerKind::kDwConv ? c : 1);
        L.conv = register_module(name, torch::nn::Conv2d(opt));
        int64_t rf = s.kernel_h * s.kernel_w;
        // Keras fans: depthwise kernel [kh, kw, c, 1] -> fan_in = rf, fan_out = rf.
        int64_t fan_in = rf * (s.kind == LayerKind::kDwConv ? 1 : c);
        int64_t fan_out = rf * (s.kind == LayerKind::kDwConv ? 1 : oc);
        glorot_uniform(L.conv->weight, fan_in, fan_out);
        if (s.bias) {
          torch::NoGradGuard g;
          L.conv->bias.zero_();
        }
        c = oc, h = oh, w = ow;
        break;
      }
      case LayerKind::kBatchNorm:
        if (h == 0) fail("batch norm after gap/dense is not supported");
        // eps 1e-3 as Keras; torch momentum 0.1 (Keras' 0.99 is too slow for short runs).
        L.bn = register_module(
            name, torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(c).eps(1e-3).momentum(0.1)));
        break;
      case LayerKind::kMaxPool:
      case LayerKind::kAvgPool: {
        int oh, ow;
        tf_padding(h, s.kernel_h, s.stride_h, s.padding, &oh, &L.pad_top, &L.pad_bottom);
        tf_padding(w, s.kernel_w, s.stride_w, s.padding, &ow, &L.pad_left, &L.pad_right);
        if (oh < 1 || ow < 1)
          fail("input " + std::to_string(h) + "x" + std::to_string(w) +
               " is smaller than the pool window");
        h = oh, w = ow;
        break;
      }
      case LayerKind::kGap:
        h = w = 1;
        break;
      case LayerKind::kDense: {
        int units = s.units > 0 ? s.units : num_labels;
        L.dense = register_module(
            name, torch::nn::Linear(torch::nn::LinearOptions(c, units).bias(s.bias)));
        glorot_uniform(L.dense->weight, c, units);
        if (s.bias) {
          torch::NoGradGuard g;
          L.dense->bias.zero_();
        }
        c = units;
        break;
      }
      default:
        break;
    }
    L.out_c = c, L.out_h = h, L.out_w = w;
    layers_.push_back(std::move(L));
  }
  if (c != num_labels)
    throw InputError("model.layers: the network outputs " + std::to_string(c) +
                     " values but there are " + std::to_string(num_labels) +
                     " labels (set the last dense layer's units to 0 or " +
                     std::to_string(num_labels) + ")");
}

torch::Tensor KwsNetImpl::forward(torch::Tensor x) {
  for (size_t i = 0; i < layers_.size(); ++i) x = forward_layer(i, std::move(x));
  return x;
}

torch::Tensor KwsNetImpl::forward_layer(size_t i, torch::Tensor x) {
  auto& L = layers_[i];
  const auto& s = L.spec;
  bool asym = L.pad_top != L.pad_bottom || L.pad_left != L.pad_right;
  bool padded = L.pad_top || L.pad_bottom || L.pad_left || L.pad_right;
  switch (s.kind) {
    case LayerKind::kConv:
    case LayerKind::kDwConv:
    case LayerKind::kPwConv:
      if (padded)
        x = F::pad(x, F::PadFuncOptions({L.pad_left, L.pad_right, L.pad_top, L.pad_bottom}));
      x = L.conv->forward(x);
      break;
    case LayerKind::kBatchNorm:
      x = L.bn->forward(x);
      break;
    case LayerKind::kRelu:
      x = torch::relu(x);
      break;
    case LayerKind::kMaxPool:
      if (padded)
        x = F::pad(x, F::PadFuncOptions({L.pad_left, L.pad_right, L.pad_top, L.pad_bottom})
                          .value(-std::numeric_limits<float>::infinity()));
      x = torch::max_pool2d(x, {s.kernel_h, s.kernel_w}, {s.stride_h, s.stride_w});
      break;
    case LayerKind::kAvgPool:
      // TF averages over the valid (unpadded) elements only: count_include_pad = false.
      if (padded && !asym) {
        x = torch::avg_pool2d(x, {s.kernel_h, s.kernel_w}, {s.stride_h, s.stride_w},
                              {L.pad_top, L.pad_left}, false, false);
      } else if (padded) {
        auto ones = torch::ones({1, 1, x.size(2), x.size(3)}, x.options());
        auto pad = F::PadFuncOptions({L.pad_left, L.pad_right, L.pad_top, L.pad_bottom});
        auto sum =
            torch::avg_pool2d(F::pad(x, pad), {s.kernel_h, s.kernel_w}, {s.stride_h, s.stride_w});
        auto cnt = torch::avg_pool2d(F::pad(ones, pad), {s.kernel_h, s.kernel_w},
                                     {s.stride_h, s.stride_w});
        x = sum / cnt;
      } else {
        x = torch::avg_pool2d(x, {s.kernel_h, s.kernel_w}, {s.stride_h, s.stride_w});
      }
      break;
    case LayerKind::kDropout:
      x = F::dropout(x, F::DropoutFuncOptions().p(s.rate).training(is_training()));
      break;
    case LayerKind::kGap:
      x = x.mean({2, 3});
      break;
    case LayerKind::kDense:
      x = L.dense->forward(x);
      break;
    case LayerKind::kSoftmax:
      break;  // logits out; the loss applies log-softmax
  }
  return x;
}

int64_t KwsNetImpl::num_parameters() const {
  int64_t n = 0;
  for (auto& p : parameters()) n += p.numel();
  return n;
}

namespace {

uint32_t add_tensor(Model& m, const std::string& name, const torch::Tensor& t) {
  Tensor out;
  out.name = name;
  auto c = t.detach().to(torch::kFloat32).contiguous();
  for (auto d : c.sizes()) out.shape.push_back(static_cast<int32_t>(d));
  out.f32.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  // Pruning and clustering multiply by 0 and leave -0.0 for negative weights; the file keeps
  // bit patterns exactly, so make every zero +0.0 (it is then stored as sparsity, not a value).
  for (float& v : out.f32)
    if (v == 0.0f) v = 0.0f;
  m.tensors.push_back(std::move(out));
  return static_cast<uint32_t>(m.tensors.size() - 1);
}

}  // namespace

void KwsNetImpl::export_to(Model& m) const {
  bool has_softmax = false;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& L = layers_[i];
    const auto& s = L.spec;
    std::string name = "layer" + std::to_string(i);
    Op op;
    const bool windowed = s.kind == LayerKind::kConv || s.kind == LayerKind::kDwConv ||
                          s.kind == LayerKind::kPwConv || s.kind == LayerKind::kMaxPool ||
                          s.kind == LayerKind::kAvgPool;
    if (windowed) {  // other ops keep the 1x1 / stride 1 / valid defaults
      op.kernel_h = s.kernel_h, op.kernel_w = s.kernel_w;
      op.stride_h = s.stride_h, op.stride_w = s.stride_w;
      op.padding = s.padding;
    }
    op.out_channels = L.out_c;
    switch (s.kind) {
      case LayerKind::kConv:
      case LayerKind::kPwConv:
      case LayerKind::kDwConv: {
        op.type = s.kind == LayerKind::kDwConv ? OpType::kDepthwiseConv2D : OpType::kConv2D;
        op.tensors.push_back(add_tensor(m, name + ".weight", L.conv->weight));
        if (s.bias) op.tensors.push_back(add_tensor(m, name + ".bias", L.conv->bias));
        break;
      }
      case LayerKind::kBatchNorm: {
        // Inference form: y = x * scale + shift, scale = gamma / sqrt(var + eps),
        // shift = beta - mean * scale (computed in double, stored as float32).
        auto var = L.bn->running_var.to(torch::kFloat64);
        auto scale =
            L.bn->weight.detach().to(torch::kFloat64) / torch::sqrt(var + L.bn->options.eps());
        auto shift = L.bn->bias.detach().to(torch::kFloat64) -
                     L.bn->running_mean.to(torch::kFloat64) * scale;
        op.type = OpType::kBatchNorm;
        op.tensors.push_back(add_tensor(m, name + ".scale", scale));
        op.tensors.push_back(add_tensor(m, name + ".shift", shift));
        break;
      }
      case LayerKind::kRelu:
        op.type = OpType::kRelu;
        break;
      case LayerKind::kMaxPool:
        op.type = OpType::kMaxPool2D;
        break;
      case LayerKind::kAvgPool:
        op.type = OpType::kAvgPool2D;
        break;
      case LayerKind::kDropout:
        continue;  // identity at inference
      case LayerKind::kGap:
        op.type = OpType::kGlobalAvgPool;
        break;
      case LayerKind::kDense: {
        op.type = OpType::kDense;
        op.tensors.push_back(add_tensor(m, name + ".weight", L.dense->weight));
        if (s.bias) op.tensors.push_back(add_tensor(m, name + ".bias", L.dense->bias));
        break;
      }
      case LayerKind::kSoftmax:
        op.type = OpType::kSoftmax;
        has_softmax = true;
        break;
    }
    m.ops.push_back(std::move(op));
  }
  if (!has_softmax) {
    Op op;
    op.type = OpType::kSoftmax;
    op.out_channels = layers_.back().out_c;
    m.ops.push_back(op);
  }
}

std::vector<torch::Tensor> snapshot_state(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m.parameters()) out.push_back(p.detach().clone());
  for (auto& b : m.buffers()) out.push_back(b.detach().clone());
  return out;
}

void load_state(torch::nn::Module& m, const std::vector<torch::Tensor>& state) {
  torch::NoGradGuard g;
  size_t i = 0;
  for (auto& p : m.parameters()) p.copy_(state.at(i++));
  for (auto& b : m.buffers()) b.copy_(state.at(i++));
}

}  // namespace tkws
