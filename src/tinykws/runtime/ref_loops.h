// Internal to the runtime (not API): the loops the float reference kernels (ops_ref.cpp) and the
// int8 reference kernels (ops_int8.cpp) share. Each template walks the NHWC activations (N = 1)
// in the one order both sets use; the element arithmetic (accumulator start, term, final
// rounding) comes in as lambdas, so every sum is formed exactly as written in the kernel.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinykws/format/model.h"

namespace tkws::ref_loops {

inline size_t at(const ActShape& s, int32_t h, int32_t w, int32_t c) {
  return (static_cast<size_t>(h) * s.w + w) * s.c + c;
}

// Visits the window cells of output (oh, ow) that lie inside the input: f(ih, iw, ky, kx).
template <class F>
void for_window(const Window& win, const ActShape& in, int32_t oh, int32_t ow, F&& f) {
  for (int32_t ky = 0; ky < win.kh; ++ky) {
    const int32_t ih = oh * win.sh - win.pad_top + ky;
    if (ih < 0 || ih >= in.h) continue;
    for (int32_t kx = 0; kx < win.kw; ++kx) {
      const int32_t iw = ow * win.sw - win.pad_left + kx;
      if (iw < 0 || iw >= in.w) continue;
      f(ih, iw, ky, kx);
    }
  }
}

// For every output (oh, ow, c): acc = init(c); visit(acc, ih, iw, ky, kx, c) for each of the n
// window cells inside the input; out[oh][ow][c] = finish(acc, c, n).
template <class Init, class Visit, class Finish, class T>
void window_reduce(const Window& win, const ActShape& in, const ActShape& out, T* dst, Init init,
                   Visit visit, Finish finish) {
  for (int32_t oh = 0; oh < out.h; ++oh)
    for (int32_t ow = 0; ow < out.w; ++ow)
      for (int32_t c = 0; c < out.c; ++c) {
        auto acc = init(c);
        int32_t n = 0;
        for_window(win, in, oh, ow, [&](int32_t ih, int32_t iw, int32_t ky, int32_t kx) {
          visit(acc, ih, iw, ky, kx, c);
          ++n;
        });
        dst[at(out, oh, ow, c)] = finish(acc, c, n);
      }
}

// Conv2D, weights w [out_c][in_c][kh][kw]: acc = init(o) + sum over the window cells inside
// the input and the input channels of term(w[o][i][ky][kx], in[ih][iw][i]); out = finish(acc, o).
template <class W, class T, class Init, class Term, class Finish>
void conv2d(const Window& win, const ActShape& in_s, const ActShape& out_s, const W* w, const T* in,
            T* out, Init init, Term term, Finish finish) {
  const int32_t ic = in_s.c, kh = win.kh, kw = win.kw;
  window_reduce(
      win, in_s, out_s, out, init,
      [&](auto& acc, int32_t ih, int32_t iw, int32_t ky, int32_t kx, int32_t o) {
        for (int32_t i = 0; i < ic; ++i)
          acc += term(w[((static_cast<size_t>(o) * ic + i) * kh + ky) * kw + kx],
                      in[at(in_s, ih, iw, i)]);
      },
      [&](auto acc, int32_t o, int32_t) { return finish(acc, o); });
}

// DepthwiseConv2D, one filter per channel, w [c][1][kh][kw]: as conv2d with i = c only.
template <class W, class T, class Init, class Term, class Finish>
void depthwise_conv2d(const Window& win, const ActShape& in_s, const ActShape& out_s, const W* w,
                      const T* in, T* out, Init init, Term term, Finish finish) {
  const int32_t kh = win.kh, kw = win.kw;
  window_reduce(
      win, in_s, out_s, out, init,
      [&](auto& acc, int32_t ih, int32_t iw, int32_t ky, int32_t kx, int32_t c) {
        acc += term(w[(static_cast<size_t>(c) * kh + ky) * kw + kx], in[at(in_s, ih, iw, c)]);
      },
      [&](auto acc, int32_t c, int32_t) { return finish(acc, c); });
}

// Pools: acc = init, then visit(acc, in[ih][iw][c]) for each of the n window cells inside the
// input; out = finish(acc, n).
template <class Acc, class T, class Visit, class Finish>
void pool2d(const Window& win, const ActShape& in_s, const ActShape& out_s, const T* in, T* out,
            Acc init, Visit visit, Finish finish) {
  window_reduce(
      win, in_s, out_s, out, [&](int32_t) { return init; },
      [&](Acc& acc, int32_t ih, int32_t iw, int32_t, int32_t, int32_t c) {
        visit(acc, in[at(in_s, ih, iw, c)]);
      },
      [&](Acc acc, int32_t, int32_t n) { return finish(acc, n); });
}

// Dense, w [out][in] over `in` flattened (NHWC): acc = init(o) + sum_i term(w[o][i], in[i]);
// out[o] = finish(acc, o).
template <class W, class T, class Init, class Term, class Finish>
void dense(const ActShape& in_s, const ActShape& out_s, const W* w, const T* in, T* out, Init init,
           Term term, Finish finish) {
  const size_t n_in = in_s.size();
  for (int32_t o = 0; o < out_s.c; ++o) {
    auto acc = init(o);
    for (size_t i = 0; i < n_in; ++i) acc += term(w[o * n_in + i], in[i]);
    out[o] = finish(acc, o);
  }
}

}  // namespace tkws::ref_loops
