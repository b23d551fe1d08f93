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
struct Pool {
  std::vector<float> data;
  size_t alloc(size_t n) {
    const size_t off = plan::round_up(data.size(), kAlignFloats);
    data.resize(off + n, 0.0f);
    return off;
  }
};

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
    return Status::Error(StatusCode::kInvalidArgument, "input shape %dx%dx%d", in.h, in.w, in.c);
  }
  const size_t n = m.ops.size();
  if (n == 0) return Status::Error(StatusCode::kInvalidModel, "model has no ops");
  std::vector<ActShape> shapes;
  if (Status st = plan::plan_shapes(m, in, &shapes); !st.ok()) return st;

  // Every tensor an op uses, as float.
  std::vector<std::vector<float>> vals(m.tensors.size());
  for (const Op& op : m.ops)
    for (uint32_t t : op.tensors) {
      Status st;
      if (vals[t].empty() && !tensor_as_float(m.tensors[t], &vals[t], &st)) return st;
    }
  auto tensor = [&](const Op& op, size_t k) -> const float* {
    return k < op.tensors.size() ? vals[op.tensors[k]].data() : nullptr;
  };

  const FastKernels* fk = plan::pick_kernel_set(opt.kernels == KernelSet::kFast, fast_kernel_sets,
                                                opt.fast_set, &kernel_set_name_);

  Pool pool;
  for (size_t i = 0; i < n;) {
    const Op& op = m.ops[i];
    Step s;
    s.first_op = static_cast<int>(i);
    s.args.in = shapes[i];
    s.args.win = op_window(op, shapes[i]);
    std::string name = op_name(op.type);
    size_t last = i;
    auto fuse_next = [&](OpType t) {
      if (last + 1 >= n || m.ops[last + 1].type != t) return false;
      ++last;
      name += std::string("+") + op_name(t);
      return true;
    };
    const bool weighted = op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D ||
                          op.type == OpType::kDense;
    if (fk && weighted) {
      // BatchNorm folded into the weights: w' = w * scale[o], b' = b * scale[o] + shift[o].
      const float *scale = nullptr, *shift = nullptr;
      if (fuse_next(OpType::kBatchNorm)) {
        scale = tensor(m.ops[last], 0);
        shift = tensor(m.ops[last], 1);
      }
      s.args.relu = fuse_next(OpType::kRelu);
      const float* w = tensor(op, 0);
      const float* bias = tensor(op, 1);
      auto fold_w = [&](size_t o) { return scale ? scale[o] : 1.0f; };
      auto fold_b = [&](size_t o) {
        return (bias ? bias[o] : 0.0f) * fold_w(o) + (shift ? shift[o] : 0.0f);
      };
      const ActShape& a_in = shapes[i];
      const ActShape& a_out = shapes[last + 1];
      if (op.type == OpType::kDense) {
        // [units][n_in] -> rows of ldw = round_up8(n_in); bias [units].
        const size_t n_in = a_in.size(), units = static_cast<size_t>(a_out.c);
        s.args.ldw = round_up8(static_cast<int32_t>(n_in));
        s.w_off = pool.alloc(units * s.args.ldw);
        s.b_off = pool.alloc(units);
        for (size_t o = 0; o < units; ++o) {
          for (size_t j = 0; j < n_in; ++j)
            pool.data[s.w_off + o * s.args.ldw + j] = w[o * n_in + j] * fold_w(o);
          pool.data[s.b_off + o] = fold_b(o);
        }
        s.fn = fk->dense;
      } else if (op.type == OpType::kDepthwiseConv2D) {
        // [c][1][kh][kw] -> [kh][kw][ldw]
        const size_t c = static_cast<size_t>(a_in.c),
                     taps = static_cast<size_t>(op.kernel_h) * static_cast<size_t>(op.kernel_w);
        s.args.ldw = round_up8(a_in.c);
        s.w_off = pool.alloc(taps * s.args.ldw);
        s.b_off = pool.alloc(s.args.ldw);
        for (size_t ch = 0; ch < c; ++ch) {
          for (size_t t = 0; t < taps; ++t)
            pool.data[s.w_off + t * s.args.ldw + ch] = w[ch * taps + t] * fold_w(ch);
          pool.data[s.b_off + ch] = fold_b(ch);
        }
        s.fn = fk->depthwise;
      } else {
        // [oc][ic][kh][kw] -> [kh][kw][ic][ldw]; a 1x1 stride-1 conv is a GEMM ("pointwise").
        const size_t oc = static_cast<size_t>(a_out.c), ic = static_cast<size_t>(a_in.c);
        const size_t taps = static_cast<size_t>(op.kernel_h) * static_cast<size_t>(op.kernel_w);
        s.args.ldw = round_up8(a_out.c);
        s.w_off = pool.alloc(taps * ic * s.args.ldw);
        s.b_off = pool.alloc(s.args.ldw);
        for (size_t o = 0; o < oc; ++o) {
          for (size_t ci = 0; ci < ic; ++ci)
            for (size_t t = 0; t < taps; ++t)
              pool.data[s.w_off + (t * ic + ci) * s.args.ldw + o] =
                  w[(o * ic + ci) * taps + t] * fold_w(o);
          pool.data[s.b_off + o] = fold_b(o);
        }
        const bool pointwise = taps == 1 && op.stride_h == 1 && op.stride_w == 1;
        s.fn = pointwise ? fk->pointwise : fk->conv2d;
        if (pointwise) name.insert(6, " 1x1");  // "Conv2D 1x1+..."
      }
    } else if (fk && op.type == OpType::kBatchNorm) {
      s.args.relu = fuse_next(OpType::kRelu);
      const size_t c = static_cast<size_t>(shapes[i].c);
      s.args.ldw = round_up8(shapes[i].c);
      s.w_off = pool.alloc(s.args.ldw);
      s.b_off = pool.alloc(s.args.ldw);
      std::memcpy(&pool.data[s.w_off], tensor(op, 0), c * sizeof(float));
      std::memcpy(&pool.data[s.b_off], tensor(op, 1), c * sizeof(float));
      s.fn = fk->affine;
    } else if (fk && op.type == OpType::kRelu) {
      s.fn = fk->relu;
    } else if (fk && op.type == OpType::kGlobalAvgPool) {
      s.fn = fk->global_avg_pool;
    } else {
      // Reference kernel, weights exactly as stored.
      const OpInfo* info = op_info(op.type);
      if (!info || !info->reference)
        return Status::Error(StatusCode::kUnsupported, "op %zu: no kernel for %s", i,
                             op_name(op.type));
      s.fn = info->reference;
      for (size_t k = 0; k < op.tensors.size() && k < 2; ++k) {
        const std::vector<float>& v = vals[op.tensors[k]];
        const size_t off = pool.alloc(v.size());
        std::memcpy(&pool.data[off], v.data(), v.size() * sizeof(float));
        (k == 0 ? s.w_off : s.b_off) = off;
      }
    }
    s.last_op = static_cast<int>(last);
    s.args.out = shapes[last + 1];
    std::snprintf(s.name, sizeof s.name, "%s", name.c_str());
    steps_.push_back(s);
    i = last + 1;
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

  // Final weight storage, 64-byte aligned; point the steps at it.
  weights_.assign(pool.data.size() + kAlignFloats, 0.0f);
  const auto addr = reinterpret_cast<uintptr_t>(weights_.data());
  wbase_ = ((kAlignFloats * sizeof(float) - addr % (kAlignFloats * sizeof(float))) %
            (kAlignFloats * sizeof(float))) /
           sizeof(float);
  if (!pool.data.empty())
    std::memcpy(weights_.data() + wbase_, pool.data.data(), pool.data.size() * sizeof(float));
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
