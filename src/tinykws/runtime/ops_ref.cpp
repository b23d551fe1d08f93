// Reference kernels: the formulas of ops.h, written for clarity, not speed.
#include <cmath>
#include <iterator>

#include "tinykws/runtime/ops.h"
#include "tinykws/runtime/ref_loops.h"

namespace tkws {

void ref_conv2d(const KernelArgs& a, const float* in, float* out, float*) {
  ref_loops::conv2d(
      a.win, a.in, a.out, a.w, in, out, [&](int32_t o) { return a.b ? a.b[o] : 0.0f; },
      [](float w, float x) { return w * x; }, [](float acc, int32_t) { return acc; });
}

void ref_depthwise_conv2d(const KernelArgs& a, const float* in, float* out, float*) {
  ref_loops::depthwise_conv2d(
      a.win, a.in, a.out, a.w, in, out, [&](int32_t c) { return a.b ? a.b[c] : 0.0f; },
      [](float w, float x) { return w * x; }, [](float acc, int32_t) { return acc; });
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
  ref_loops::pool2d(
      a.win, a.in, a.out, in, out, -INFINITY, [](float& m, float v) { m = v > m ? v : m; },
      [](float m, int32_t) { return m; });
}

void ref_avg_pool2d(const KernelArgs& a, const float* in, float* out, float*) {
  ref_loops::pool2d(
      a.win, a.in, a.out, in, out, 0.0f, [](float& sum, float v) { sum += v; },
      [](float sum, int32_t n) { return n ? sum / static_cast<float>(n) : 0.0f; });
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
  ref_loops::dense(
      a.in, a.out, a.w, in, out, [&](int32_t o) { return a.b ? a.b[o] : 0.0f; },
      [](float w, float x) { return w * x; }, [](float acc, int32_t) { return acc; });
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
    {nullptr},        {ref_conv2d},     {ref_depthwise_conv2d}, {ref_batch_norm}, {ref_relu},
    {ref_max_pool2d}, {ref_avg_pool2d}, {ref_global_avg_pool},  {ref_dense},      {ref_softmax},
};
static_assert(std::size(kOpTable) == static_cast<size_t>(OpType::kCount),
              "kOpTable needs one entry per OpType (values are part of the file format)");
}  // namespace

const OpInfo* op_info(OpType t) {
  const auto i = static_cast<size_t>(t);
  return i > 0 && i < std::size(kOpTable) ? &kOpTable[i] : nullptr;
}

}  // namespace tkws
