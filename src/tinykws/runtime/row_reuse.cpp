#include "tinykws/runtime/row_reuse.h"

#include <algorithm>
#include <cstring>

#include "tinykws/runtime/plan_util.h"

namespace tkws {
namespace detail {
namespace {

bool is_windowed(OpType t) {
  return t == OpType::kConv2D || t == OpType::kDepthwiseConv2D || t == OpType::kMaxPool2D ||
         t == OpType::kAvgPool2D;
}
// Ops whose output row r depends on input row r alone (Softmax is over channels per cell).
bool is_row_local(OpType t) {
  return t == OpType::kBatchNorm || t == OpType::kRelu || t == OpType::kSoftmax;
}

// Operations per output row (multiply-adds for weighted ops, element operations otherwise);
// for ops that are not row-wise, the whole op's.
double ops_per_row(OpType t, ActShape in, ActShape out, const Window& win) {
  const double cells = double{1.0} * out.w * out.c, taps = double{1.0} * win.kh * win.kw;
  switch (t) {
    case OpType::kConv2D:
      return cells * taps * in.c;
    case OpType::kDepthwiseConv2D:
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D:
      return cells * taps;
    case OpType::kDense:
      return static_cast<double>(in.size()) * out.c;
    case OpType::kGlobalAvgPool:
      return static_cast<double>(in.size());
    default:
      return cells;
  }
}

constexpr size_t kAlignBytes = 64;

}  // namespace

template <class Elem, class Args, class Fn>
void RowReuseCore<Elem, Args, Fn>::plan(const std::vector<StepIn>& in_steps, int shift_rows,
                                        size_t extra, bool shift_kept) {
  *this = RowReuseCore();
  shift_ = shift_rows;
  shift_kept_ = shift_kept;
  const size_t n = in_steps.size();
  if (n == 0) return;
  const int h0 = in_steps[0].args.in.h;

  // Rows of the step's input that differ from the previous call's (moved) rows; s_in = how far
  // the input's rows move per call, 0 = not at all comparable (compute everything).
  int s_in = shift_rows < h0 ? shift_rows : 0;
  std::vector<char> dirty_in(static_cast<size_t>(h0), 0);
  for (int r = std::max(0, h0 - shift_rows); r < h0; ++r) dirty_in[static_cast<size_t>(r)] = 1;

  for (size_t k = 0; k < n; ++k) {
    const StepIn& is = in_steps[k];
    RStep s;
    s.fn = is.fn;
    s.args = is.args;
    s.windowed = is_windowed(is.type);
    const int h_in = s.args.in.h, h_out = s.args.out.h;
    std::vector<char> dirty(static_cast<size_t>(h_out), 1);
    int s_out = 0;
    if (s_in > 0 && k + 1 < n) {  // the last step writes the caller's output: whole
      if (s.windowed && s_in % s.args.win.sh == 0) {
        s_out = s_in / s.args.win.sh;
        for (int r = 0; r + s_out < h_out; ++r) {
          const int i0 = r * s.args.win.sh - s.args.win.pad_top, i1 = i0 + s.args.win.kh;
          bool keep = i0 >= 0 && i1 + s_in <= h_in;
          for (int i = std::max(i0, 0); keep && i < i1; ++i)
            keep = !dirty_in[static_cast<size_t>(i)];
          dirty[static_cast<size_t>(r)] = !keep;
        }
      } else if (is_row_local(is.type) && h_in == h_out) {
        s_out = s_in;
        for (int r = 0; r + s_out < h_out; ++r)
          dirty[static_cast<size_t>(r)] = dirty_in[static_cast<size_t>(r)];
      }
    }
    const double per_row = ops_per_row(is.type, s.args.in, s.args.out, s.args.win);
    const bool row_wise = s.windowed || is_row_local(is.type);
    full_ops_ += row_wise ? per_row * h_out : per_row;
    s.partial = s_out > 0 && std::find(dirty.begin(), dirty.end(), 0) != dirty.end();
    if (s.partial) {
      ++reusing_steps_;
      s.shift = s_out;
      for (int r = 0; r < h_out;) {
        if (!dirty[static_cast<size_t>(r)]) {
          ++r;
          continue;
        }
        int e = r;
        while (e < h_out && dirty[static_cast<size_t>(e)]) ++e;
        s.ranges.emplace_back(r, e);
        continued_ops_ += per_row * (e - r);
        r = e;
      }
    } else {
      s_out = 0;
      continued_ops_ += row_wise ? per_row * h_out : per_row;
    }
    steps_.push_back(std::move(s));
    s_in = s_out;
    dirty_in.swap(dirty);
  }
  // A partial step keeps its rows between calls (a ring) when the next step reads rows it does
  // not recompute: the next step runs whole, or its ranges' windows reach kept rows. Otherwise
  // (a depthwise layer before its pointwise one) its recomputed rows are all that is read.
  for (size_t k = 0; k + 1 < n; ++k) {
    RStep& s = steps_[k];
    if (!s.partial) continue;
    const RStep& next = steps_[k + 1];
    std::vector<char> computed(static_cast<size_t>(s.args.out.h), 0);
    for (const auto& [r0, r1] : s.ranges)
      std::fill(computed.begin() + r0, computed.begin() + r1, 1);
    s.ring = !next.partial;
    for (const auto& [r0, r1] : next.ranges) {
      int lo = r0, hi = r1;
      if (next.windowed) {
        lo = std::max<int>(0, r0 * next.args.win.sh - next.args.win.pad_top);
        hi = std::min<int>(s.args.out.h,
                           (r1 - 1) * next.args.win.sh - next.args.win.pad_top + next.args.win.kh);
      }
      for (int r = lo; r < hi && !s.ring; ++r) s.ring = !computed[static_cast<size_t>(r)];
    }
    ring_steps_ += s.ring;
  }
  // Storage: a ring of 2 x out.h rows (out.h rows when they are shifted instead), or the plain
  // output (the last step writes the caller's).
  const size_t align = kAlignBytes / sizeof(Elem);
  size_t offset = 0;
  for (size_t k = 0; k < n; ++k) {
    RStep& s = steps_[k];
    const size_t elems = s.ring && !shift_kept_ ? 2 * s.args.out.size()
                         : k + 1 == n           ? 0
                                                : s.args.out.size();
    s.out_off = offset;
    offset = plan::round_up(offset + elems, align);
  }
  if (extra > 0) {
    extra_off_ = offset;
    offset += extra;
  }
  state_.assign(offset + align, Elem{0});
  const auto addr = reinterpret_cast<uintptr_t>(state_.data());
  base_ = ((kAlignBytes - addr % kAlignBytes) % kAlignBytes) / sizeof(Elem);
}

// The step's arguments for output rows [r0, r1): the input rows their windows read, with the
// padding of the real border only; *in_off = elements into the step's input.
template <class Elem, class Args, class Fn>
Args RowReuseCore<Elem, Args, Fn>::row_args(const RStep& s, int r0, int r1, size_t* in_off) {
  Args a = s.args;
  const size_t in_row = static_cast<size_t>(a.in.w) * a.in.c;
  if (s.windowed) {
    const int lo = r0 * a.win.sh - a.win.pad_top,
              hi = (r1 - 1) * a.win.sh - a.win.pad_top + a.win.kh;
    const int lo_in = std::max(lo, 0), hi_in = std::min<int>(hi, a.in.h);
    a.in.h = hi_in - lo_in;
    a.win.pad_top = lo_in - lo;
    *in_off = static_cast<size_t>(lo_in) * in_row;
  } else {
    a.in.h = r1 - r0;
    *in_off = static_cast<size_t>(r0) * in_row;
  }
  a.out.h = a.win.out_h = r1 - r0;
  return a;
}

template <class Elem, class Args, class Fn>
void RowReuseCore<Elem, Args, Fn>::mirror_rows(const RStep& s, int r0, int r1) noexcept {
  const int h = s.args.out.h;
  const size_t row = static_cast<size_t>(s.args.out.w) * s.args.out.c;
  Elem* const ring = state_.data() + base_ + s.out_off;
  for (int r = r0; r < r1; ++r) {
    const int p = s.start + r, q = p < h ? p + h : p - h;
    std::memcpy(ring + static_cast<size_t>(q) * row, ring + static_cast<size_t>(p) * row,
                row * sizeof(Elem));
  }
}

template <class Elem, class Args, class Fn>
template <class Call>
void RowReuseCore<Elem, Args, Fn>::run(const Elem* input, Elem* output, bool continues,
                                       Call call) noexcept {
  const Elem* in = input;
  Elem* const base = state_.data() + base_;
  for (size_t k = 0; k < steps_.size(); ++k) {
    RStep& s = steps_[k];
    Elem* out = k + 1 == steps_.size() ? output : base + s.out_off;
    const size_t out_row = static_cast<size_t>(s.args.out.w) * s.args.out.c;
    const bool mirrored = s.ring && !shift_kept_;
    if (mirrored) {
      s.start = continues ? (s.start + s.shift) % s.args.out.h : 0;
      out += static_cast<size_t>(s.start) * out_row;
    } else if (s.ring && continues) {  // the kept rows move up to where this window has them
      std::memmove(out, out + static_cast<size_t>(s.shift) * out_row,
                   static_cast<size_t>(s.args.out.h - s.shift) * out_row * sizeof(Elem));
    }
    if (s.partial && continues) {
      for (const auto& [r0, r1] : s.ranges) {
        size_t in_off = 0;
        const Args a = row_args(s, r0, r1, &in_off);
        call(s.fn, a, in + in_off, out + static_cast<size_t>(r0) * out_row);
        if (mirrored) mirror_rows(s, r0, r1);
      }
    } else {
      call(s.fn, s.args, in, out);
      if (mirrored) mirror_rows(s, 0, s.args.out.h);
    }
    in = out;
  }
}

template class RowReuseCore<float, KernelArgs, KernelFn>;
template class RowReuseCore<int8_t, Int8Args, Int8KernelFn>;

namespace {

// create()'s argument checks, then the network's steps as the planner takes them.
template <class StepIn, class NetStep>
Status steps_to_plan(bool prepared, int shift_rows, const std::vector<NetStep>& net_steps,
                     std::vector<StepIn>* steps) {
  if (!prepared) return Status::Error(StatusCode::kNotPrepared, "network not prepared");
  if (shift_rows < 1)
    return Status::Error(StatusCode::kInvalidArgument, "shift_rows %d", shift_rows);
  for (const NetStep& s : net_steps) steps->push_back({s.type, s.fn, s.args});
  return Status::Ok();
}

}  // namespace
}  // namespace detail

Status RowReuseNetwork::create(const Interpreter& net, int shift_rows, bool shift_kept_rows) {
  *this = RowReuseNetwork();
  std::vector<decltype(core_)::StepIn> steps;
  if (Status st = detail::steps_to_plan(net.prepared(), shift_rows, net.steps_, &steps); !st.ok())
    return st;
  // The interpreter's pad scratch (the end of its arena), as large: a row range pads less.
  scratch_ = net.offset_s_ < net.arena_bytes_;
  core_.plan(steps, shift_rows, scratch_ ? (net.arena_bytes_ - net.offset_s_) / sizeof(float) : 0,
             shift_kept_rows);
  ready_ = true;
  return Status::Ok();
}

void RowReuseNetwork::invoke(const float* input, float* output, bool continues) noexcept {
  float* const scratch = scratch_ ? core_.extra() : nullptr;
  core_.run(input, output, continues,
            [scratch](KernelFn fn, const KernelArgs& a, const float* in, float* out) {
              fn(a, in, out, scratch);
            });
}

Status RowReuseInt8Network::create(const Int8Network& net, int shift_rows, bool shift_kept_rows) {
  *this = RowReuseInt8Network();
  std::vector<decltype(core_)::StepIn> steps;
  if (Status st = detail::steps_to_plan(net.prepared(), shift_rows, net.steps_, &steps); !st.ok())
    return st;
  in_size_ = net.input_size(), out_size_ = net.output_size();
  q_out_off_ = plan::round_up(in_size_, 64);
  core_.plan(steps, shift_rows, q_out_off_ + out_size_, shift_kept_rows);
  quantize_ = net.quantize_;
  in_scale_ = net.in_scale_, in_zp_ = net.in_zp_, out_scale_ = net.out_scale_,
  out_zp_ = net.out_zp_;
  ready_ = true;
  return Status::Ok();
}

void RowReuseInt8Network::invoke(const float* features, float* probs, bool continues) noexcept {
  int8_t* const q_in = core_.extra();
  int8_t* const q_out = q_in + q_out_off_;
  quantize_(features, in_size_, in_scale_, in_zp_, q_in);
  core_.run(
      q_in, q_out, continues,
      [](Int8KernelFn fn, const Int8Args& a, const int8_t* in, int8_t* out) { fn(a, in, out); });
  int8_dequantize(q_out, out_size_, out_scale_, out_zp_, probs);
}

}  // namespace tkws
