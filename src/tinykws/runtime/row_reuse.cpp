#include "tinykws/runtime/row_reuse.h"

#include <algorithm>
#include <cstring>

#include "tinykws/runtime/plan_util.h"

namespace tkws {
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
double ops_per_row(OpType t, const KernelArgs& a) {
  const double cells = double{1.0} * a.out.w * a.out.c, taps = double{1.0} * a.win.kh * a.win.kw;
  switch (t) {
    case OpType::kConv2D:
      return cells * taps * a.in.c;
    case OpType::kDepthwiseConv2D:
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D:
      return cells * taps;
    case OpType::kDense:
      return static_cast<double>(a.in.size()) * a.out.c;
    case OpType::kGlobalAvgPool:
      return static_cast<double>(a.in.size());
    default:
      return cells;
  }
}

}  // namespace

Status RowReuseNetwork::create(const Interpreter& net, int shift_rows) {
  *this = RowReuseNetwork();
  if (!net.prepared()) return Status::Error(StatusCode::kNotPrepared, "interpreter not prepared");
  if (shift_rows < 1)
    return Status::Error(StatusCode::kInvalidArgument, "shift_rows %d", shift_rows);
  shift_ = shift_rows;
  const size_t n = net.steps_.size();
  const size_t align = 16;  // floats: 64-byte aligned buffers
  size_t offset = 0, scratch = 0;
  const bool has_scratch = net.offset_s_ < net.arena_bytes_;

  // Rows of the step's input that differ from the previous call's (moved) rows; s_in = how far
  // the input's rows move per call, 0 = not at all comparable (compute everything).
  int s_in = shift_rows < net.input_.h ? shift_rows : 0;
  std::vector<char> dirty_in(static_cast<size_t>(net.input_.h), 0);
  for (int r = net.input_.h - shift_rows; r < net.input_.h; ++r)
    if (r >= 0) dirty_in[static_cast<size_t>(r)] = 1;

  for (size_t k = 0; k < n; ++k) {
    const Interpreter::Step& is = net.steps_[k];
    RStep s;
    s.fn = is.fn;
    s.args = is.args;
    s.windowed = is_windowed(is.type);
    const int h_in = s.args.in.h, h_out = s.args.out.h;
    std::vector<char> dirty(static_cast<size_t>(h_out), 1);
    int s_out = 0;
    const bool last = k + 1 == n;
    if (s_in > 0 && !last) {
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
    const double per_row = ops_per_row(is.type, s.args);
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
    if (has_scratch && s.windowed && padded_input_floats(s.args) > scratch)
      scratch = padded_input_floats(s.args);
    steps_.push_back(std::move(s));
    s_in = s_out;
    dirty_in.swap(dirty);
  }
  // A partial step keeps its rows between calls (a ring) when the next step reads rows it does
  // not recompute: the next step runs whole, or its ranges' windows reach kept rows. Otherwise
  // (a depthwise layer before its pointwise one) its recomputed rows are all that is read.
  for (size_t k = 0; k < n; ++k) {
    RStep& s = steps_[k];
    if (!s.partial) continue;
    const RStep& next = steps_[k + 1];  // a partial step is never the last
    std::vector<char> computed(static_cast<size_t>(s.args.out.h), 0);
    for (const auto& [r0, r1] : s.ranges)
      std::fill(computed.begin() + r0, computed.begin() + r1, 1);
    s.ring = !next.partial;
    for (const auto& [r0, r1] : next.ranges) {
      int lo = r0, hi = r1;
      if (next.windowed) {
        lo = std::max(0, r0 * next.args.win.sh - next.args.win.pad_top);
        hi = std::min(s.args.out.h,
                      (r1 - 1) * next.args.win.sh - next.args.win.pad_top + next.args.win.kh);
      }
      for (int r = lo; r < hi && !s.ring; ++r) s.ring = !computed[static_cast<size_t>(r)];
    }
    ring_steps_ += s.ring;
  }
  // Storage: a ring of 2 x out.h rows, or the plain output (the last step writes the caller's).
  for (size_t k = 0; k < n; ++k) {
    RStep& s = steps_[k];
    const size_t floats = s.ring ? 2 * s.args.out.size() : k + 1 == n ? 0 : s.args.out.size();
    s.out_off = offset;
    offset = plan::round_up(offset + floats, align);
  }
  if (has_scratch && scratch > 0) {
    scratch_off_ = offset;
    offset += scratch;
  }
  state_.assign(offset + align, 0.0f);
  const auto addr = reinterpret_cast<uintptr_t>(state_.data());
  base_ = ((align * sizeof(float) - addr % (align * sizeof(float))) % (align * sizeof(float))) /
          sizeof(float);
  return Status::Ok();
}

void RowReuseNetwork::run_rows(const RStep& s, const float* in, float* out, int r0, int r1,
                               float* scratch) const noexcept {
  KernelArgs a = s.args;
  const size_t in_row = static_cast<size_t>(a.in.w) * a.in.c;
  const size_t out_row = static_cast<size_t>(a.out.w) * a.out.c;
  if (s.windowed) {  // input rows the windows of output rows [r0, r1) read, within the input
    const int lo = r0 * a.win.sh - a.win.pad_top,
              hi = (r1 - 1) * a.win.sh - a.win.pad_top + a.win.kh;
    const int lo_in = std::max(lo, 0), hi_in = std::min(hi, a.in.h);
    a.in.h = hi_in - lo_in;
    a.win.pad_top = lo_in - lo;
    in += static_cast<size_t>(lo_in) * in_row;
  } else {
    a.in.h = r1 - r0;
    in += static_cast<size_t>(r0) * in_row;
  }
  a.out.h = a.win.out_h = r1 - r0;
  s.fn(a, in, out + static_cast<size_t>(r0) * out_row, scratch);
}

void RowReuseNetwork::mirror_rows(const RStep& s, int r0, int r1) noexcept {
  const int h = s.args.out.h;
  const size_t row = static_cast<size_t>(s.args.out.w) * s.args.out.c;
  float* const ring = state_.data() + base_ + s.out_off;
  for (int r = r0; r < r1; ++r) {
    const int p = s.start + r, q = p < h ? p + h : p - h;
    std::memcpy(ring + static_cast<size_t>(q) * row, ring + static_cast<size_t>(p) * row,
                row * sizeof(float));
  }
}

void RowReuseNetwork::invoke(const float* input, float* output, bool continues) noexcept {
  const float* in = input;
  float* const base = state_.data() + base_;
  float* const scratch = scratch_off_ == SIZE_MAX ? nullptr : base + scratch_off_;
  for (size_t k = 0; k < steps_.size(); ++k) {
    RStep& s = steps_[k];
    float* out = k + 1 == steps_.size() ? output : base + s.out_off;
    if (s.ring) {
      s.start = continues ? (s.start + s.shift) % s.args.out.h : 0;
      out += static_cast<size_t>(s.start) * s.args.out.w * s.args.out.c;
    }
    if (s.partial && continues) {
      for (const auto& [r0, r1] : s.ranges) {
        run_rows(s, in, out, r0, r1, scratch);
        if (s.ring) mirror_rows(s, r0, r1);
      }
    } else {
      s.fn(s.args, in, out, scratch);
      if (s.ring) mirror_rows(s, 0, s.args.out.h);
    }
    in = out;
  }
}

}  // namespace tkws
