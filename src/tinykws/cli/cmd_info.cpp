#include <malloc.h>

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "tinykws/cli/commands.h"
#include "tinykws/cli/detector_options.h"
#include "tinykws/common/fs.h"
#include "tinykws/eval/metrics.h"
#include "tinykws/format/tkws.h"
#include "tinykws/runtime/detector.h"
#include "tinykws/runtime/pipeline.h"

namespace tkws::cli {

Runner add_info(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  app.add_option("model", *path, "Model file (.tkws)")->required();
  return [path] {
    Model m = read_model(*path);
    std::string bytes = read_text_file(*path);
    const auto& f = m.frontend;
    const std::vector<uint8_t> raw(bytes.begin(), bytes.end());
    std::printf("%s: %zu bytes (%zu zipped), format version %u\n", path->c_str(), bytes.size(),
                deflated_size(raw), model_format_version(raw.data(), raw.size()));
    std::string labels;
    for (auto& l : m.labels) labels += (labels.empty() ? "" : ", ") + l;
    std::printf("labels: %s\n", labels.c_str());
    std::string keywords, others;
    for (size_t i = 0; i < m.labels.size(); ++i) {
      std::string& dst = m.is_keyword(i) ? keywords : others;
      dst += (dst.empty() ? "" : ", ") + m.labels[i];
    }
    std::printf("keywords: %s%s%s\n", keywords.c_str(),
                others.empty() ? "" : "; never fire: ", others.c_str());
    std::printf("detector defaults: %s\n", describe_detector(m, m.detector).c_str());
    std::printf(
        "front end: %s, %d Hz, clip %d samples, frame %d / step %d samples, fft %d, "
        "%d mel bands %.0f-%.0f Hz, %s%s -> input %d frames x %d features\n",
        f.kind == FeatureKind::kMfcc ? "MFCC" : "log-mel", f.sample_rate, f.clip_samples,
        f.frame_length, f.frame_step, f.effective_fft_length(), f.num_mel_bins, f.lower_hz,
        f.upper_hz, f.spectrum == SpectrumKind::kMagnitude ? "magnitude" : "power",
        f.kind == FeatureKind::kMfcc ? fmt::format(", {} MFCC", f.num_mfcc).c_str() : "",
        f.num_frames(), f.num_features());
    std::printf("normalisation: %s\n", m.norm_mean.empty() ? "none" : "per coefficient");
    std::printf("\n%-4s %-16s %-8s %-8s %s\n", "op", "type", "kernel", "stride", "tensors");
    for (size_t i = 0; i < m.ops.size(); ++i) {
      const Op& op = m.ops[i];
      std::string t;
      for (auto ti : op.tensors) t += (t.empty() ? "" : ", ") + m.tensors[ti].name;
      const bool windowed = op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D ||
                            op.type == OpType::kMaxPool2D || op.type == OpType::kAvgPool2D;
      std::string act = op.fused_activation == FusedActivation::kRelu ? " +relu" : "";
      std::printf("%-4zu %-16s %-8s %-8s %s\n", i, (op_name(op.type) + act).c_str(),
                  windowed ? fmt::format("{}x{}", op.kernel_h, op.kernel_w).c_str() : "-",
                  windowed ? fmt::format("{}x{}", op.stride_h, op.stride_w).c_str() : "-",
                  t.c_str());
    }
    std::printf("\n%-16s %-6s %-16s %-14s %7s %8s %8s %7s %9s\n", "tensor", "dtype", "encoding",
                "shape", "values", "sparsity", "distinct", "bits/v", "bytes");
    std::vector<TensorStorage> storage = describe_storage(m);
    uint64_t total = 0, dense = 0;
    for (size_t i = 0; i < m.tensors.size(); ++i) {
      const Tensor& t = m.tensors[i];
      const TensorStorage& s = storage[i];
      std::string shape;
      for (auto d : t.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
      std::string enc = encoding_name(s.encoding);
      if (s.clusters) enc += fmt::format(" k{}{}", s.clusters, s.rows > 1 ? "/row" : "");
      std::printf("%-16s %-6s %-16s %-14s %7llu %7.1f%% %8llu %7.2f %9llu\n", t.name.c_str(),
                  dtype_name(t.dtype), enc.c_str(), shape.c_str(),
                  static_cast<unsigned long long>(s.numel), 100.0 * s.sparsity(),
                  static_cast<unsigned long long>(s.distinct), s.bits_per_value(),
                  static_cast<unsigned long long>(s.payload_bytes));
      total += s.payload_bytes;
      dense += s.numel * 4;
    }
    std::printf("%-16s %-6s %-16s %-14s %7lld %8s %8s %7s %9llu  (fp32 dense: %llu)\n", "total", "",
                "", "", static_cast<long long>(count_parameters(m)), "", "", "",
                static_cast<unsigned long long>(total), static_cast<unsigned long long>(dense));
    KwsPipeline pipe;
    if (auto s = pipe.create(m); s.ok())
      std::printf("\nruntime arena: %zu bytes\n", pipe.arena_bytes());
    // The streaming detector's RAM: its state (samples, feature ring, scores, arena) and all
    // the heap it holds after create() (prepared weights and front-end tables too; glibc's
    // allocated bytes before and after, small chunks and mmap-ed large ones). The Model above
    // is not part of it.
    const auto heap = [] {
      const struct mallinfo2 mi = mallinfo2();
      return mi.uordblks + mi.hblkhd;
    };
    const size_t heap_before = heap();
    {
      StreamDetector d;
      if (auto s = d.create(m, m.detector); s.ok())
        std::printf("streaming detector: %zu bytes of state, %zu bytes of heap in all%s\n",
                    d.state_bytes(), heap() - heap_before,
                    d.reuses_activations() ? " (activations reused between hops)" : "");
    }
    // The same with the rows kept between hops stored once (a TINYKWS_SMALL_RAM build's
    // default, docs/deploy.md): what to plan for on a small board.
    InterpreterOptions small;
    small.shift_kept_rows = true;
    const size_t small_before = heap();
    {
      StreamDetector d;
      if (auto s = d.create(m, m.detector, small); s.ok())
        std::printf(
            "  with kept rows stored once (shift_kept_rows): %zu bytes of state, %zu "
            "bytes of heap in all\n",
            d.state_bytes(), heap() - small_before);
    }
    return 0;
  };
}

}  // namespace tkws::cli
