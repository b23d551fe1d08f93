// Interpreter: planning and weight preparation (prepare), and the allocation-free invoke().
#include "tinykws/runtime/interpreter.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "tinykws/runtime/plan_util.h"

namespace tkws {

bool tensor_as_float(const Tensor& t, std::vector<float>* out, Status* error) {
  const size_t n = t.numel();
  const bool is_float = t.dtype == DType::kF32 || t.dtype == DType::kF16;
  const size_t have = is_float                 ? t.f32.size()
                      : t.dtype == DType::kI8  ? t.i8.size()
                      : t.dtype == DType::kI32 ? t.i32.size()
                                               : SIZE_MAX;
  if (have == SIZE_MAX) {
    *error = Status::Error(StatusCode::kUnsupported, "tensor '%s': unknown dtype %d",
                           t.name.c_str(), static_cast<int>(t.dtype));
    return false;
  }
  if (have != n || n == 0) {
    *error = Status::Error(StatusCode::kInvalidModel,
                           "tensor '%s': expected %zu values for its shape, found %zu",
                           t.name.c_str(), n, have);
    return false;
  }
  if (is_float) {
    *out = t.f32;
    return true;
  }
  // Dequantise: real = scale * (q - zero_point), per tensor or per index along `axis`.
  const QuantParams& q = t.quant;
  size_t stride = 1, channels = 1;
  if (q.axis >= 0 && static_cast<size_t>(q.axis) < t.shape.size()) {
    channels = static_cast<size_t>(t.shape[q.axis]);
    for (size_t d = static_cast<size_t>(q.axis) + 1; d < t.shape.size(); ++d)
      stride *= static_cast<size_t>(t.shape[d]);
  }
  if (q.scale.size() != channels || q.zero_point.size() != channels) {
    *error = Status::Error(StatusCode::kInvalidModel,
                           "tensor '%s': expected %zu quant scales and zero points, found %zu/%zu",
                           t.name.c_str(), channels, q.scale.size(), q.zero_point.size());
    return false;
  }
  out->resize(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t ch = (i / stride) % channels;
    const int32_t v = t.dtype == DType::kI8 ? t.i8[i] : t.i32[i];
    (*out)[i] = q.scale[ch] * static_cast<float>(static_cast<int64_t>(v) - q.zero_point[ch]);
  }
  return true;
}

namespace {

constexpr size_t kAlignFloats = 16;  // 64 bytes: weight blocks and arena buffer B

// Weight blocks of the plan, each 64-byte aligned relative to the pool's start.
// prepare() packs in two passes: the first only counts (data == nullptr: the packers place
// their blocks and return before writing), the second writes into the weight storage sized by
// the first, so no growing buffer or second copy of the weights is ever held.
struct Pool {
  float* data = nullptr;
  size_t size = 0;
  size_t alloc(size_t n) {
    const size_t off = plan::round_up(size, kAlignFloats);
    size = off + n;
    return off;
  }
};

// Where one step's weights went: pool offsets (SIZE_MAX = none) and, for fast kernels, the row
// stride ldw.
struct Packed {
  size_t w_off = SIZE_MAX, b_off = SIZE_MAX;
  int32_t ldw = 0;
};

// A weighted op's weights w and bias with a following BatchNorm folded in, per output channel
// o: w' = w * scale[o], b' = bias[o] * scale[o] + shift[o] (no BatchNorm: scale 1, shift 0;
// no bias: 0).
struct Folded {
  const float *w = nullptr, *bias = nullptr, *scale = nullptr, *shift = nullptr;
  float w_scale(size_t o) const { return scale ? scale[o] : 1.0f; }
  float b(size_t o) const {
    return (bias ? bias[o] : 0.0f) * w_scale(o) + (shift ? shift[o] : 0.0f);
  }
};

// One packer per fast-kernel weight layout (ops.h, "Weight layouts after prepare"); padding
// lanes stay zero.

// dense: w [units][n_in] -> rows of ldw = round_up8(n_in) floats; b [units].
Packed pack_dense(const Folded& f, size_t n_in, size_t units, Pool& pool) {
  Packed p;
  p.ldw = round_up8(static_cast<int32_t>(n_in));
  p.w_off = pool.alloc(units * p.ldw);
  p.b_off = pool.alloc(units);
  if (!pool.data) return p;
  for (size_t o = 0; o < units; ++o) {
    for (size_t j = 0; j < n_in; ++j)
      pool.data[p.w_off + o * p.ldw + j] = f.w[o * n_in + j] * f.w_scale(o);
    pool.data[p.b_off + o] = f.b(o);
  }
  return p;
}

// depthwise: w [c][1][kh][kw] -> [kh][kw][ldw], ldw = round_up8(c); b [ldw].
Packed pack_depthwise(const Folded& f, size_t c, size_t taps, Pool& pool) {
  Packed p;
  p.ldw = round_up8(static_cast<int32_t>(c));
  p.w_off = pool.alloc(taps * p.ldw);
  p.b_off = pool.alloc(p.ldw);
  if (!pool.data) return p;
  for (size_t ch = 0; ch < c; ++ch) {
    for (size_t t = 0; t < taps; ++t)
      pool.data[p.w_off + t * p.ldw + ch] = f.w[ch * taps + t] * f.w_scale(ch);
    pool.data[p.b_off + ch] = f.b(ch);
  }
  return p;
}

// conv2d and pointwise: w [oc][ic][kh][kw] -> [kh][kw][ic][ldw], ldw = round_up8(oc); b [ldw].
Packed pack_conv(const Folded& f, size_t oc, size_t ic, size_t taps, Pool& pool) {
  Packed p;
  p.ldw = round_up8(static_cast<int32_t>(oc));
  p.w_off = pool.alloc(taps * ic * p.ldw);
  p.b_off = pool.alloc(p.ldw);
  if (!pool.data) return p;
  for (size_t o = 0; o < oc; ++o) {
    for (size_t ci = 0; ci < ic; ++ci)
      for (size_t t = 0; t < taps; ++t)
        pool.data[p.w_off + (t * ic + ci) * p.ldw + o] =
            f.w[(o * ic + ci) * taps + t] * f.w_scale(o);
    pool.data[p.b_off + o] = f.b(o);
  }
  return p;
}

// affine (a BatchNorm on its own): w = scale [ldw], b = shift [ldw], ldw = round_up8(c).
Packed pack_affine(const float* scale, const float* shift, size_t c, Pool& pool) {
  Packed p;
  p.ldw = round_up8(static_cast<int32_t>(c));
  p.w_off = pool.alloc(p.ldw);
  p.b_off = pool.alloc(p.ldw);
  if (!pool.data) return p;
  std::memcpy(&pool.data[p.w_off], scale, c * sizeof(float));
  std::memcpy(&pool.data[p.b_off], shift, c * sizeof(float));
  return p;
}

// Reference kernels: the op's first two tensors (weight, bias) exactly as stored.
Packed copy_stored(const Model& m, const Op& op, const std::vector<std::vector<float>>& vals,
                   Pool& pool) {
  Packed p;
  for (size_t k = 0; k < op.tensors.size() && k < 2; ++k) {
    const size_t count = m.tensors[op.tensors[k]].numel();
    const size_t off = pool.alloc(count);
    if (pool.data) std::memcpy(&pool.data[off], vals[op.tensors[k]].data(), count * sizeof(float));
    (k == 0 ? p.w_off : p.b_off) = off;
  }
  return p;
}

bool is_weighted(OpType t) {
  return t == OpType::kConv2D || t == OpType::kDepthwiseConv2D || t == OpType::kDense;
}

}  // namespace

Status Interpreter::prepare(const Model& m, const InterpreterOptions& opt) {
  reset_keeping_hook();

  // Shapes, through the same rules check_model() uses.
  if (m.is_int8())
    return Status::Error(StatusCode::kUnsupported,
                         "int8 model (input_quant set): run it with Int8Network "
                         "(runtime/int8_network.h), or KwsPipeline which picks it");
  ActShape in = opt.input;
  if (in.h == 0) {
    if (std::string e = check_model(m); !e.empty())
      return Status::Error(StatusCode::kInvalidModel, "%s", e.c_str());
    in = model_input_shape(m);
  } else if (in.h < 1 || in.w < 1 || in.c < 1) {
    return Status::Error(StatusCode::kInvalidArgument, "input shape %dx%dx%d",
                         static_cast<int>(in.h), static_cast<int>(in.w), static_cast<int>(in.c));
  }
  const size_t n = m.ops.size();
  if (n == 0) return Status::Error(StatusCode::kInvalidModel, "model has no ops");
  std::vector<ActShape> shapes;
  if (Status st = plan::plan_shapes(m, in, &shapes); !st.ok()) return st;

  // Every tensor an op uses must convert to float; checked first, one tensor at a time, so
  // that the passes below cannot fail halfway.
  {
    std::vector<float> v;
    for (const Op& op : m.ops)
      for (uint32_t t : op.tensors)
        if (Status st; !tensor_as_float(m.tensors[t], &v, &st)) return st;
  }
  // A step's tensors as float, converted when the writing pass reaches it and freed after
  // (a board holds one op's weights twice at most, not the whole model's).
  std::vector<std::vector<float>> vals(m.tensors.size());
  auto tensor = [&](const Op& op, size_t k) -> const float* {
    return k < op.tensors.size() ? vals[op.tensors[k]].data() : nullptr;
  };

  const FastKernels* fk = plan::pick_kernel_set(opt.kernels == KernelSet::kFast, fast_kernel_sets,
                                                opt.fast_set, &kernel_set_name_);

  // One step per op, except that the fast kernels fold a BatchNorm after a weighted op into its
  // weights, and a Relu after either into the kernel: steps cover ops [first_op, last_op].
  // Two passes (Pool): count, then write into weights_.
  Pool pool;
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) {
      weights_.assign(pool.size + kAlignFloats, 0.0f);
      const auto addr = reinterpret_cast<uintptr_t>(weights_.data());
      wbase_ = ((kAlignFloats * sizeof(float) - addr % (kAlignFloats * sizeof(float))) %
                (kAlignFloats * sizeof(float))) /
               sizeof(float);
      pool = Pool{weights_.data() + wbase_, 0};
    }
    steps_.clear();
    for (size_t i = 0; i < n;) {
      const Op& op = m.ops[i];
      size_t last = i;
      auto fold_next = [&](OpType t) {
        if (!fk || last + 1 >= n || m.ops[last + 1].type != t) return false;
        ++last;
        return true;
      };
      const Op* bn = is_weighted(op.type) && fold_next(OpType::kBatchNorm) ? &m.ops[last] : nullptr;
      const bool relu =
          (is_weighted(op.type) || op.type == OpType::kBatchNorm) && fold_next(OpType::kRelu);
      const ActShape& a_in = shapes[i];
      const ActShape& a_out = shapes[last + 1];
      const size_t taps = static_cast<size_t>(op.kernel_h) * static_cast<size_t>(op.kernel_w);
      const bool pointwise = op.type == OpType::kConv2D && taps == 1 && op.stride_h == 1 &&
                             op.stride_w == 1;  // a GEMM
      Step s;
      Packed p;
      if (pass == 1)
        for (size_t k = i; k <= last; ++k)
          for (uint32_t t : m.ops[k].tensors) {
            Status st;
            if (vals[t].empty()) tensor_as_float(m.tensors[t], &vals[t], &st);  // checked above
          }
      if (fk && is_weighted(op.type)) {
        const Folded f{tensor(op, 0), tensor(op, 1), bn ? tensor(*bn, 0) : nullptr,
                       bn ? tensor(*bn, 1) : nullptr};
        if (op.type == OpType::kDense) {
          p = pack_dense(f, a_in.size(), static_cast<size_t>(a_out.c), pool);
          s.fn = fk->dense;
        } else if (op.type == OpType::kDepthwiseConv2D) {
          p = pack_depthwise(f, static_cast<size_t>(a_in.c), taps, pool);
          s.fn = fk->depthwise;
        } else {
          p = pack_conv(f, static_cast<size_t>(a_out.c), static_cast<size_t>(a_in.c), taps, pool);
          s.fn = pointwise ? fk->pointwise : fk->conv2d;
        }
      } else if (fk && op.type == OpType::kBatchNorm) {
        p = pack_affine(tensor(op, 0), tensor(op, 1), static_cast<size_t>(a_in.c), pool);
        s.fn = fk->affine;
      } else if (fk && op.type == OpType::kRelu) {
        s.fn = fk->relu;
      } else if (fk && op.type == OpType::kGlobalAvgPool) {
        s.fn = fk->global_avg_pool;
      } else {
        const OpInfo* info = op_info(op.type);
        if (!info || !info->reference)
          return Status::Error(StatusCode::kUnsupported, "op %zu: no kernel for %s", i,
                               op_name(op.type));
        s.fn = info->reference;
        p = copy_stored(m, op, vals, pool);
      }
      for (size_t k = i; k <= last; ++k)
        for (uint32_t t : m.ops[k].tensors) std::vector<float>().swap(vals[t]);
      s.type = op.type;
      s.first_op = static_cast<int>(i);
      s.last_op = static_cast<int>(last);
      s.w_off = p.w_off, s.b_off = p.b_off;
      s.args.in = a_in;
      s.args.out = a_out;
      s.args.win = op_window(op, a_in);
      s.args.ldw = p.ldw;
      s.args.relu = relu;
      // "Conv2D 1x1+BatchNorm+Relu": the first op (" 1x1" on the GEMM kernel), then each folded op.
      std::string name = op_name(op.type);
      if (fk && pointwise) name += " 1x1";
      for (size_t k = i + 1; k <= last; ++k) name += std::string("+") + op_name(m.ops[k].type);
      std::snprintf(s.name, sizeof s.name, "%s", name.c_str());
      steps_.push_back(s);
      i = last + 1;
    }
  }

  // Ping-pong buffers: input -> A -> B -> A ... -> output; scratch S for padded inputs.
  size_t max_a = 0, max_b = 0, max_s = 0;
  plan::plan_ping_pong(steps_, &max_a, &max_b);
  for (const Step& s : steps_)
    if (fk && opt.pad_scratch && (s.fn == fk->conv2d || s.fn == fk->depthwise) &&
        padded_input_floats(s.args) > max_s)
      max_s = padded_input_floats(s.args);
  const size_t align = kAlignFloats * sizeof(float);
  offset_b_ = plan::round_up(max_a * sizeof(float), align);
  offset_s_ = plan::round_up(offset_b_ + max_b * sizeof(float), align);
  arena_bytes_ = max_s   ? offset_s_ + max_s * sizeof(float)
                 : max_b ? offset_b_ + max_b * sizeof(float)
                         : max_a * sizeof(float);

  // Point the steps at the weights (64-byte aligned blocks from wbase_).
  for (Step& s : steps_) {
    s.args.w = plan::at_offset(weights_.data() + wbase_, s.w_off);
    s.args.b = plan::at_offset(weights_.data() + wbase_, s.b_off);
  }
  input_ = in;
  output_ = shapes[n];
  return Status::Ok();
}

Status Interpreter::invoke(const float* input, float* output, float* arena,
                           size_t arena_bytes) const noexcept {
  if (Status st = plan::check_invoke("the interpreter", "the model", prepared(), input, output,
                                     arena, arena_bytes, arena_bytes_);
      !st.ok())
    return st;
  float* const buf[4] = {const_cast<float*>(input), arena,
                         arena ? arena + offset_b_ / sizeof(float) : nullptr, output};
  float* const scratch = offset_s_ < arena_bytes_ ? arena + offset_s_ / sizeof(float) : nullptr;
  for (size_t k = 0; k < steps_.size(); ++k) {
    const Step& s = steps_[k];
    if (hook_)
      hook_(hook_user_, StepEvent{static_cast<int>(k), s.name, s.first_op, s.last_op, false,
                                  nullptr, s.args.out});
    s.fn(s.args, buf[s.src], buf[s.dst], scratch);
    if (hook_)
      hook_(hook_user_, StepEvent{static_cast<int>(k), s.name, s.first_op, s.last_op, true,
                                  buf[s.dst], s.args.out});
  }
  return Status::Ok();
}

}  // namespace tkws
