// Int8Network: planning, multipliers and weight packing (prepare), allocation-free invoke().
#include "tinykws/runtime/int8_network.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "tinykws/runtime/plan_util.h"

namespace tkws {
namespace {

constexpr size_t kAlign = 64;  // bytes: arena buffers
using plan::round_up;

// Pool sizes, counted while planning: each weighted op takes its place in the pools
// (offsets) before they exist; prepare() then allocates each pool once, at its exact size, and
// fills it (no growth, no copies: on a board the peak is what stays in use).
struct PoolSizes {
  size_t w8 = 0, w16 = 0, i32 = 0;  // int8, int16, int32 values
};
size_t take(size_t* used, size_t count, size_t align = 1) {
  *used = round_up(*used, align);
  const size_t off = *used;
  *used += count;
  return off;
}

// What the fill pass writes for one weighted op.
struct WeightedFill {
  size_t step = 0;  // index into steps_
  const Tensor* w = nullptr;
  const Tensor* b = nullptr;
  std::vector<int32_t> mult, shift;
  bool fast = false;
  Int8FastKind kind{};
};

// Largest |accumulator| of an output: |bias| + k products of |w| <= 127 and |x - zp| <= 255.
// int32 holds it exactly when it stays below 2^31 (k ~ 66,000 for a zero bias: far beyond
// keyword-spotting layers).
double accumulator_max(size_t k, const std::vector<int32_t>& bias) {
  int64_t max_bias = 0;
  for (int32_t b : bias) max_bias = std::max<int64_t>(max_bias, std::llabs(int64_t{b}));
  return static_cast<double>(k) * 127.0 * 255.0 + static_cast<double>(max_bias);
}
constexpr double kInt32Max = 2147483647.0;

// out_zp + mbqm(acc, q) is an int32 sum in every kernel: |mbqm| <= |acc| * M + 1 with
// M = m0 * 2^(shift - 31), so it cannot overflow while this holds (a calibrated model has
// M * acc_max of a few hundred; a hostile file can make it ~2^31).
bool requant_fits(double acc_max, QuantizedMultiplier q, int32_t out_zp) {
  const double m = std::ldexp(static_cast<double>(q.m0), q.shift - 31);
  return acc_max * m + 1.0 + std::abs(static_cast<double>(out_zp)) < kInt32Max;
}

// One planner per op kind. `Step` is Int8Network::Step with args.in/out/win, the zero points
// and the activation range set; a planner sets the kernel, its constants and pool offsets and
// appends to `name` ("Conv2D" -> "Conv2D 1x1+Relu"). kUnsupported when int32 could overflow.

// Conv2D, DepthwiseConv2D, Dense: per-channel multipliers M = s_in * s_w[c] / s_out, then the
// weights as stored (reference kernels) or packed for the fast kind (ops_int8.h layouts).
template <class Step>
Status plan_weighted(size_t i, const Op& op, const Model& m, double s_in, const Int8FastKernels* fk,
                     PoolSizes* pools, Step& s, std::string& name, WeightedFill* fill) {
  Int8Args& a = s.args;
  const Tensor& w = m.tensors[op.tensors[0]];
  const Tensor& b = m.tensors[op.tensors[1]];
  const size_t oc = static_cast<size_t>(a.out.c);
  const size_t k = w.numel() / (op.type == OpType::kDepthwiseConv2D ? a.in.c : oc);
  const double acc_max = accumulator_max(k, b.i32);
  if (acc_max >= kInt32Max)
    return Status::Error(StatusCode::kUnsupported,
                         "op %zu (%s): %zu products per output may overflow int32", i, name.c_str(),
                         k);
  fill->w = &w;
  fill->b = &b;
  fill->mult.resize(oc);
  fill->shift.resize(oc);
  for (size_t c = 0; c < oc; ++c) {
    const double s_w = w.quant.scale[w.quant.scale.size() == 1 ? 0 : c];
    const QuantizedMultiplier q = quantize_multiplier(s_in * s_w / double{s.out_scale});
    if (!requant_fits(acc_max, q, s.out_zp))
      return Status::Error(StatusCode::kUnsupported,
                           "op %zu (%s): channel %zu's requantised outputs may overflow "
                           "int32 (scales give a multiplier of %g)",
                           i, name.c_str(), c, std::ldexp(static_cast<double>(q.m0), q.shift - 31));
    fill->mult[c] = q.m0;
    fill->shift[c] = q.shift;
  }
  s.mult_off = take(&pools->i32, oc);
  s.shift_off = take(&pools->i32, oc);
  if (fk && int8_fast_kind(op.type, a, &fill->kind)) {
    fill->fast = true;
    const Int8FastLayout l = int8_fast_layout(fill->kind, fk->packing, a);
    a.ldw = l.ldw;
    if (l.weight_bytes == sizeof(int16_t)) {
      s.wp_off = take(&pools->w16, l.weight_count, kAlign / sizeof(int16_t));
    } else {
      s.wp8_off = take(&pools->w8, l.weight_count, kAlign);
    }
    s.bias_off = take(&pools->i32, l.bias_count);
    s.fn = fk->get(fill->kind);
    if (fill->kind == Int8FastKind::kPointwise) name += " 1x1";
  } else {
    s.w_off = take(&pools->w8, w.i8.size());
    s.bias_off = take(&pools->i32, b.i32.size());
    s.fn = int8_ref_kernel(op.type);
  }
  if (op.fused_activation == FusedActivation::kRelu) name += "+Relu";
  return Status::Ok();
}

// GlobalAvgPool: the sum of h * w int8 values, requantised by M = s_in / (s_out * pixels).
template <class Step>
Status plan_global_avg_pool(size_t i, double s_in, const Int8FastKernels* fk, Step& s,
                            const std::string& name) {
  Int8Args& a = s.args;
  const size_t pixels = static_cast<size_t>(a.in.h) * a.in.w;
  if (static_cast<double>(pixels) * 255.0 >= kInt32Max)
    return Status::Error(StatusCode::kUnsupported, "op %zu (%s): %zu pixels overflow int32", i,
                         name.c_str(), pixels);
  const QuantizedMultiplier q =
      quantize_multiplier(s_in / (double{s.out_scale} * static_cast<double>(pixels)));
  if (!requant_fits(static_cast<double>(pixels) * 255.0, q, s.out_zp))
    return Status::Error(StatusCode::kUnsupported,
                         "op %zu (%s): requantised outputs may overflow int32", i, name.c_str());
  a.m0 = q.m0;
  a.m_shift = q.shift;
  s.fn = fk ? fk->global_avg_pool : int8_ref_global_avg_pool;
  return Status::Ok();
}

// Softmax: the Q12.19 sum of up to c exponentials <= 1 must stay below 2^12.
template <class Step>
Status plan_softmax(size_t i, float s_in, Step& s, const std::string& name) {
  Int8Args& a = s.args;
  if (a.in.c >= 4096)
    return Status::Error(StatusCode::kUnsupported,
                         "op %zu (%s): %d classes, the int8 softmax takes at most 4095", i,
                         name.c_str(), static_cast<int>(a.in.c));
  int8_softmax_params(s_in, 1.0f, &a.m0, &a.m_shift, &a.diff_min);
  s.fn = int8_ref_softmax;
  return Status::Ok();
}

}  // namespace

Status Int8Network::prepare(const Model& m, const Int8NetworkOptions& opt) {
  reset_keeping_hook();

  if (std::string e = check_model(m); !e.empty())
    return Status::Error(StatusCode::kInvalidModel, "%s", e.c_str());
  if (!m.is_int8())
    return Status::Error(StatusCode::kInvalidModel,
                         "not an int8 model (no input_quant): run it with the Interpreter");
  const size_t n = m.ops.size();
  std::vector<ActShape> shapes;
  if (Status st = plan::plan_shapes(m, model_input_shape(m), &shapes); !st.ok()) return st;

  const Int8FastKernels* fk =
      plan::pick_kernel_set(!opt.reference, int8_fast_kernel_sets, opt.fast_set, &kernel_set_name_);

  quantize_ = fk ? fk->quantize : int8_quantize;
  in_scale_ = m.input_quant.scale[0];
  in_zp_ = m.input_quant.zero_point[0];
  float s_in = in_scale_;
  int32_t zp_in = in_zp_;
  PoolSizes pools;
  std::vector<WeightedFill> fills;
  steps_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const Op& op = m.ops[i];
    Step s;
    s.op = static_cast<int>(i);
    s.type = op.type;
    s.out_scale = op.out_quant.scale[0];
    s.out_zp = op.out_quant.zero_point[0];
    Int8Args& a = s.args;
    a.in = shapes[i];
    a.out = shapes[i + 1];
    a.win = op_window(op, shapes[i]);
    a.in_zp = zp_in;
    a.out_zp = s.out_zp;
    int8_activation_range(op.fused_activation, s.out_zp, &a.act_min, &a.act_max);
    std::string name = op_name(op.type);

    Status st;
    switch (op.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D:
      case OpType::kDense:
        fills.emplace_back();
        fills.back().step = steps_.size();
        st = plan_weighted(i, op, m, s_in, fk, &pools, s, name, &fills.back());
        break;
      case OpType::kGlobalAvgPool:
        st = plan_global_avg_pool(i, s_in, fk, s, name);
        break;
      case OpType::kSoftmax:
        st = plan_softmax(i, s_in, s, name);
        break;
      case OpType::kRelu:
        // Same params in and out (check_model): a clamp at the zero point.
        int8_activation_range(FusedActivation::kRelu, s.out_zp, &a.act_min, &a.act_max);
        s.fn = int8_ref_relu;
        break;
      case OpType::kMaxPool2D:
      case OpType::kAvgPool2D:
        s.fn = int8_ref_kernel(op.type);
        break;
      case OpType::kBatchNorm:  // folded away by quantize_int8: no int8 kernel
      case OpType::kCount:
        break;
    }
    if (!st.ok()) return st;
    if (!s.fn)
      return Status::Error(StatusCode::kUnsupported, "op %zu: no int8 kernel for %s", i,
                           op_name(op.type));
    std::snprintf(s.name, sizeof s.name, "%s", name.c_str());
    steps_.push_back(s);
    s_in = s.out_scale;
    zp_in = s.out_zp;
  }

  // Buffers: Q at 0, O, then A and B alternating from op 0's output.
  size_t max_a = 0, max_b = 0;
  plan::plan_ping_pong(steps_, &max_a, &max_b);
  input_ = shapes[0];
  output_ = shapes[n];
  off_o_ = round_up(input_.size(), kAlign);
  off_a_ = round_up(off_o_ + output_.size(), kAlign);
  off_b_ = round_up(off_a_ + max_a, kAlign);
  arena_bytes_ = off_b_ + max_b;
  out_scale_ = steps_.back().out_scale;
  out_zp_ = steps_.back().out_zp;

  // The pools at their exact sizes, then every weighted op's constants into its place.
  w8_.assign(pools.w8, 0);
  w16_.assign(pools.w16, 0);
  i32_.assign(pools.i32, 0);
  for (const WeightedFill& f : fills) {
    const Step& s = steps_[f.step];
    std::copy(f.mult.begin(), f.mult.end(), i32_.begin() + static_cast<ptrdiff_t>(s.mult_off));
    std::copy(f.shift.begin(), f.shift.end(), i32_.begin() + static_cast<ptrdiff_t>(s.shift_off));
    if (f.fast) {
      Int8Args pa = s.args;  // the multipliers for the requantisation constants
      pa.mult = f.mult.data();
      pa.shift = f.shift.data();
      void* wp = s.wp_off != SIZE_MAX ? static_cast<void*>(w16_.data() + s.wp_off)
                                      : static_cast<void*>(w8_.data() + s.wp8_off);
      int8_fast_pack(f.kind, fk->packing, pa, f.w->i8.data(), f.b->i32.data(), wp,
                     i32_.data() + s.bias_off);
    } else {
      std::copy(f.w->i8.begin(), f.w->i8.end(), w8_.begin() + static_cast<ptrdiff_t>(s.w_off));
      std::copy(f.b->i32.begin(), f.b->i32.end(),
                i32_.begin() + static_cast<ptrdiff_t>(s.bias_off));
    }
  }
  for (Step& s : steps_) {
    Int8Args& a = s.args;
    a.w = plan::at_offset(w8_.data(), s.w_off);
    a.wp = plan::at_offset(w16_.data(), s.wp_off);
    a.wp8 = plan::at_offset(w8_.data(), s.wp8_off);
    a.bias = plan::at_offset(i32_.data(), s.bias_off);
    a.mult = plan::at_offset(i32_.data(), s.mult_off);
    a.shift = plan::at_offset(i32_.data(), s.shift_off);
  }
  return Status::Ok();
}

Status Int8Network::check_invoke(const void* in, const void* out, const void* arena,
                                 size_t arena_bytes) const {
  return plan::check_invoke("the network", "the network", prepared(), in, out, arena, arena_bytes,
                            arena_bytes_);
}

Status Int8Network::run(const int8_t* q_in, int8_t* q_out, uint8_t* arena) const {
  int8_t* const buf[4] = {const_cast<int8_t*>(q_in), reinterpret_cast<int8_t*>(arena + off_a_),
                          reinterpret_cast<int8_t*>(arena + off_b_), q_out};
  for (const Step& s : steps_) {
    s.fn(s.args, buf[s.src], buf[s.dst]);
    if (hook_)
      hook_(hook_user_, Int8StepEvent{s.op, s.name, buf[s.dst], s.args.out, s.out_scale, s.out_zp});
  }
  return Status::Ok();
}

Status Int8Network::invoke_int8(const int8_t* q_in, int8_t* q_out, void* arena,
                                size_t arena_bytes) const {
  if (Status st = check_invoke(q_in, q_out, arena, arena_bytes); !st.ok()) return st;
  return run(q_in, q_out, static_cast<uint8_t*>(arena));
}

Status Int8Network::invoke(const float* features, float* probs, void* arena,
                           size_t arena_bytes) const {
  if (Status st = check_invoke(features, probs, arena, arena_bytes); !st.ok()) return st;
  auto* base = static_cast<uint8_t*>(arena);
  auto* q_in = reinterpret_cast<int8_t*>(base);
  auto* q_out = reinterpret_cast<int8_t*>(base + off_o_);
  quantize_(features, input_.size(), in_scale_, in_zp_, q_in);
  const Status st = run(q_in, q_out, base);
  if (!st.ok()) return st;
  int8_dequantize(q_out, output_.size(), out_scale_, out_zp_, probs);
  return Status::Ok();
}

}  // namespace tkws
