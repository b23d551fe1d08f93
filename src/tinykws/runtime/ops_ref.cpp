// Reference kernels: the formulas of ops.h, written for clarity, not speed.
#include <cmath>
#include <iterator>

#include "tinykws/runtime/ops.h"

namespace tkws {
namespace {

inline size_t at(const ActShape& s, int32_t h, int32_t w, int32_t c) {
  return (static_cast<size_t>(h) * s.w + w) * s.c + c;
}

// Visits the window cells of output (oh, ow) that lie inside the input: f(ih, iw, ky, kx).
template <class F>
void for_window(const KernelArgs& a, int32_t oh, int32_t ow, F&& f) {
  for (int32_t ky = 0; ky < a.win.kh; ++ky) {
    const int32_t ih = oh * a.win.sh - a.win.pad_top + ky;
    if (ih < 0 || ih >= a.in.h) continue;
    for (int32_t kx = 0; kx < a.win.kw; ++kx) {
      const int32_t iw = ow * a.win.sw - a.win.pad_left + kx;
      if (iw < 0 || iw >= a.in.w) continue;
      f(ih, iw, ky, kx);
    }
  }
}

}  // namespace

void ref_conv2d(const KernelArgs& a, const float* in, float* out, float*) {
  const int32_t ic = a.in.c, kh = a.win.kh, kw = a.win.kw;
  for (int32_t oh = 0; oh < a.out.h; ++oh)
    for (int32_t ow = 0; ow < a.out.w; ++ow)
      for (int32_t o = 0; o < a.out.c; ++o) {
        float acc = a.b ? a.b[o] : 0.0f;
        for_window(a, oh, ow, [&](int32_t ih, int32_t iw, int32_t ky, int32_t kx) {
          for (int32_t i = 0; i < ic; ++i)
            acc += a.w[((static_cast<size_t>(o) * ic + i) * kh + ky) * kw + kx] *
                   in[at(a.in, ih, iw, i)];
        });
        out[at(a.out, oh, ow, o)] = acc;
      }
}

void ref_depthwise_conv2d(const KernelArgs& a, const float* in, float* out, float*) {
  const int32_t kh = a.win.kh, kw = a.win.kw;
  for (int32_t oh = 0; oh < a.out.h; ++oh)
    for (int32_t ow = 0; ow < a.out.w; ++ow)
      for (int32_t c = 0; c < a.out.c; ++c) {
        float acc = a.b ? a.b[c] : 0.0f;
        for_window(a, oh, ow, [&](int32_t ih, int32_t iw, int32_t ky, int32_t kx) {
          acc += a.w[(static_cast<size_t>(c) * kh + ky) * kw + kx] * in[at(a.in, ih, iw, c)];
        });
        out[at(a.out, oh, ow, c)] = acc;
      }
}

void ref_batch_norm(const KernelArgs& a, const float* in, float* out, float*) {
  const size_t pixels = static_cast<size_t>(a.in.h) * a.in.w;
  for (size_t p = 0; p < pixels; ++p)
    for (int32_t c = 0; c < a.in.c; ++c) {
      const size_t i = p * a.in.c + c;
      out[i] = in[i] * a.w[c] + a.b[c];
    }
}

void ref_relu(const KernelArgs& a, const float* in, float* out, float*) {
  const size_t n = a.in.size();
  for (size_t i = 0; i < n; ++i) out[i] = in[i] < 0.0f ? 0.0f : in[i];
}

void ref_max_pool2d(const KernelArgs& a, const float* in, float* out, float*) {
  for (int32_t oh = 0; oh < a.out.h; ++oh)
    for (int32_t ow = 0; ow < a.out.w; ++ow)
      for (int32_t c = 0; c < a.out.c; ++c) {
        float m = -INFINITY;
        for_window(a, oh, ow, [&](int32_t ih, int32_t iw, int32_t, int32_t) {
          const float v = in[at(a.in, ih, iw, c)];
          m = v > m ? v : m;
        });
        out[at(a.out, oh, ow, c)] = m;
      }
}

void ref_avg_pool2d(const KernelArgs& a, const float* in, float* out, float*) {
  for (int32_t oh = 0; oh < a.out.h; ++oh)
    for (int32_t ow = 0; ow < a.out.w; ++ow)
      for (int32_t c = 0; c < a.out.c; ++c) {
        float sum = 0.0f;
        int32_t n = 0;
        for_window(a, oh, ow, [&](int32_t ih, int32_t iw, int32_t, int32_t) {
          sum += in[at(a.in, ih, iw, c)];
          ++n;
        });
        out[at(a.out, oh, ow, c)] = n ? sum / static_cast<float>(n) : 0.0f;
      }
}

void ref_global_avg_pool(const KernelArgs& a, const float* in, float* out, float*) {
  const size_t pixels = static_cast<size_t>(a.in.h) * a.in.w;
  for (int32_t c = 0; c < a.in.c; ++c) {
    float sum = 0.0f;
    for (size_t p = 0; p < pixels; ++p) sum += in[p * a.in.c + c];
    out[c] = sum / static_cast<float>(pixels);
  }
}

void ref_dense(const KernelArgs& a, const float* in, float* out, float*) {
  const size_t n_in = a.in.size();
  for (int32_t o = 0; o < a.out.c; ++o) {
    float acc = a.b ? a.b[o] : 0.0f;
    for (size_t i = 0; i < n_in; ++i) acc += a.w[o * n_in + i] * in[i];
    out[o] = acc;
  }
}

void ref_softmax(const KernelArgs& a, const float* in, float* out, float*) {
  const size_t pixels = static_cast<size_t>(a.in.h) * a.in.w;
  const int32_t n = a.in.c;
  for (size_t p = 0; p < pixels; ++p) {
    const float* x = in + p * n;
    float* y = out + p * n;
    float m = x[0];
    for (int32_t c = 1; c < n; ++c) m = x[c] > m ? x[c] : m;
    float sum = 0.0f;
    for (int32_t c = 0; c < n; ++c) sum += (y[c] = std::exp(x[c] - m));
    const float inv = 1.0f / sum;
    for (int32_t c = 0; c < n; ++c) y[c] *= inv;
  }
}

namespace {
// Indexed by OpType value; entry 0 is not an op (the enum starts at 1).
constexpr OpInfo kOpTable[] = {
    {nullptr, nullptr},
    {"Conv2D", ref_conv2d},
    {"DepthwiseConv2D", ref_depthwise_conv2d},
    {"BatchNorm", ref_batch_norm},
    {"Relu", ref_relu},
    {"MaxPool2D", ref_max_pool2d},
    {"AvgPool2D", ref_avg_pool2d},
    {"GlobalAvgPool", ref_global_avg_pool},
    {"Dense", ref_dense},
    {"Softmax", ref_softmax},
};
static_assert(std::size(kOpTable) == static_cast<size_t>(OpType::kCount),
              "kOpTable needs one entry per OpType (values are part of the file format)");
}  // namespace

const OpInfo* op_info(OpType t) {
  const auto i = static_cast<size_t>(t);
  return i > 0 && i < std::size(kOpTable) ? &kOpTable[i] : nullptr;
}

}  // namespace tkws
