// In-memory form of a tinykws model: what training exports, what the .tkws writer stores and
// the reader returns, and what the runtime interpreter prepares. No I/O here.
//
// Activations are NHWC with N = 1: the input is the normalised feature matrix
// [H = frames][W = features][C = 1]. Weight layouts (logical, as stored):
//   Conv2D          weight [out_ch][in_ch][kh][kw], bias [out_ch]
//   DepthwiseConv2D weight [ch][1][kh][kw] (depth multiplier 1), bias [ch]
//   BatchNorm       scale [ch], shift [ch]  (inference form: y = x * scale + shift)
//   Dense           weight [out][in], bias [out]; `in` is the previous activation flattened in
//                   NHWC order, index (h * W + w) * C + c (a PyTorch exporter flattening NCHW
//                   must permute its columns; after GlobalAvgPool H = W = 1 and nothing moves)
// Bias tensors are optional (an op may list only its weight). Pools with "same" padding follow
// TensorFlow: padded cells are ignored (max) / not counted (average). Softmax runs over C at each
// position. The activation after GlobalAvgPool or Dense is [1][1][C].
// The enum values below are part of the file format: never renumber, only append.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/frontend/frontend_config.h"

namespace tkws {

enum class OpType : uint16_t {
  kConv2D = 1,
  kDepthwiseConv2D = 2,
  kBatchNorm = 3,
  kRelu = 4,
  kMaxPool2D = 5,
  kAvgPool2D = 6,
  kGlobalAvgPool = 7,
  kDense = 8,
  kSoftmax = 9,
  kCount  // one past the last; op tables are static_assert-ed against it
};
const char* op_name(OpType t);

enum class Padding : uint8_t {
  kValid = 0,
  kSame = 1,  // TensorFlow "same": out = ceil(in / stride); extra padding at bottom/right
};

// Element type of the stored payload. Values are part of the file format.
enum class DType : uint8_t { kF32 = 0, kF16 = 1, kI8 = 2, kI32 = 3 };

// How a payload is laid out in the file. Values are part of the file format.
enum class Encoding : uint8_t {
  kDense = 0,            // every element, dtype-sized
  kClustered = 1,        // codebook(s) (dtype) + bit-packed indices
  kSparse = 2,           // bitmap of non-zeros + non-zero values
  kSparseClustered = 3,  // bitmap of non-zeros + codebook(s) + indices of the non-zeros
};

// Affine quantisation parameters: real = scale * (q - zero_point).
// Per-tensor: one entry. Per-channel: one entry per index of dimension `axis`.
struct QuantParams {
  std::vector<float> scale;
  std::vector<int32_t> zero_point;
  int32_t axis = -1;  // -1 = per tensor
  bool empty() const { return scale.empty(); }
};

struct Tensor {
  std::string name;            // e.g. "layer3.weight"; unique within a model
  std::vector<int32_t> shape;  // logical shape, row-major
  DType dtype = DType::kF32;   // storage type in the file
  // Logical values for float tensors (kF32, kF16: values already rounded to fp16).
  std::vector<float> f32;
  // Integer payloads for quantised tensors (compression issue); empty for float tensors.
  std::vector<int8_t> i8;
  std::vector<int32_t> i32;
  QuantParams quant;
  // How the payload is laid out in the file (format/tkws.h, section 10): the reader sets it
  // from the file; the writer ignores it and picks the smallest lossless encoding itself.
  // The logical values above never depend on it.
  Encoding encoding = Encoding::kDense;
  size_t numel() const;  // product of shape (1 for a scalar, 0 if any dim <= 0)
};

// "[8][4][3][3]" (a shape for messages; "[] (scalar)" when empty).
std::string dims_str(const std::vector<int32_t>& d);

const char* dtype_name(DType t);  // "f32", "f16", "i8", "i32", or "?"
size_t dtype_bytes(DType t);      // bytes per stored element, 0 if unknown
// "dense", "clustered", "sparse", "sparse_clustered", or "?"
const char* encoding_name(Encoding e);

// Activation fused into the op that precedes it (int8 models: quantize_int8 folds a ReLU that
// follows a Conv2D / DepthwiseConv2D / Dense into that op). Values are part of the file format.
enum class FusedActivation : uint8_t {
  kNone = 0,
  kRelu = 1,  // y = max(y, 0); int8: output clamped to [max(-128, out zero_point), 127]
};

// One operation of the sequential graph. Each op reads the previous op's output.
struct Op {
  OpType type = OpType::kRelu;
  int32_t kernel_h = 1, kernel_w = 1;  // Conv2D, DepthwiseConv2D, MaxPool2D, AvgPool2D
  int32_t stride_h = 1, stride_w = 1;
  Padding padding = Padding::kValid;
  int32_t out_channels = 0;       // Conv2D filters, Dense units (informative for others)
  std::vector<uint32_t> tensors;  // indices into Model::tensors (weight, bias) / (scale, shift)

  // ---- int8 models (see "int8 models" below) -----------------------------------------------
  // Per-tensor quantisation of this op's output activation: one scale > 0, one zero point in
  // [-128, 127], axis -1 (real = scale * (q - zero_point)). Empty for float models.
  QuantParams out_quant;
  // Conv2D / DepthwiseConv2D / Dense of an int8 model only: activation applied to the op's
  // result before it is stored. kNone elsewhere (check_model enforces it).
  FusedActivation fused_activation = FusedActivation::kNone;
};

// ---- int8 models -------------------------------------------------------------------------------
// A model is int8 when Model::input_quant is set (compress/quantize.h makes them; the runtime
// runs them with Int8Network, runtime/int8_network.h). TFLite's scheme (docs/training.md):
//  - the network input [frames][features][1] (normalised features) is quantised with
//    input_quant: q = clamp(round(x / scale) + zero_point, -128, 127);
//  - every op has out_quant (per tensor); an op's input params are the previous op's
//    out_quant (input_quant for op 0); activations are int8 in [-128, 127];
//  - no BatchNorm op (folded into the preceding conv / dense); a ReLU after a conv / dense is
//    that op's fused_activation; a Relu op elsewhere keeps its input's params (q = max(q, zp));
//  - Conv2D / DepthwiseConv2D / Dense: weight dtype kI8 in [-127, 127], zero point 0, per
//    output channel (axis 0) for convs, per tensor (axis -1) or per channel (axis 0) for Dense;
//    bias kI32 (required), zero point 0, scale[c] = s_in * s_w[c], same axis as the weight;
//      out = clamp(zp_out + requant(bias[c] + sum w * (x - zp_in), s_in * s_w[c] / s_out))
//    with TFLite's fixed-point requantisation (runtime/ops_int8.h); padded cells are real 0
//    (x = zp_in); the clamp is [-128, 127], or [max(-128, zp_out), 127] with a fused ReLU;
//  - MaxPool2D / AvgPool2D / Relu: out_quant equals the input's params;
//  - GlobalAvgPool requantises (own out_quant); Softmax: out_quant scale 1/256, zp -128;
//  - the last op's output is dequantised to float: real = scale * (q - zero_point).

// Streaming-detection defaults stored in the model file (format v3, tkws.h section 8a); the
// runtime's streaming detector (runtime/detector.h) uses them unless the caller overrides a
// field. Files older than v3 read as these defaults. Times are milliseconds of audio; the
// detector rounds hop_ms to whole front-end frames (at least one frame_step) and smoothing_ms,
// refractory_ms, gate times to whole hops or frames. Ranges (check_model): see check() below.
struct DetectorSettings {
  // The network runs once every hop over the last clip_samples of audio. 80 ms = 4 frames of
  // the default front end (12.5 inferences per second of speech), which the default network's
  // stride-2 first conv divides, so the detector can reuse activations between hops
  // (runtime/row_reuse.h; 100 ms = 5 frames could not). Before session 7: 100 ms.
  int32_t hop_ms = 80;  // [1, 5000]
  // Per-class scores (softmax outputs) are averaged over the last smoothing_ms of hops
  // (max(1, round(smoothing_ms / hop)) hops; 0 = no smoothing).
  int32_t smoothing_ms = 300;  // [0, 10000]
  // A keyword fires when its smoothed score is >= its threshold for min_hops consecutive
  // hops, and is the highest-scoring keyword of that hop.
  float threshold = 0.8f;         // [0, 1], every keyword label
  std::vector<float> thresholds;  // empty, or one per label in [0, 1] (overrides `threshold`;
                                  // entries of non-keyword labels are ignored)
  int32_t min_hops = 4;           // [1, 1000] (320 ms at 80 ms hops; before session 7: 3)
  // After a detection, no keyword fires for this long (audio time from the firing hop).
  int32_t refractory_ms = 1000;  // [0, 60000]
  // Energy gate: the network is skipped (scores count as 0, smoothing history cleared) while
  // no speech is present. A frame is loud when its RMS level, 20 log10(rms) dBFS with a full
  // scale sine at -3 dBFS (samples in [-1, 1)), is >= gate_dbfs; speech starts after
  // gate_min_speech_ms of consecutive loud frames and ends gate_hangover_ms after the last
  // loud frame (>= the clip length, so a word is seen at every position of the window).
  bool gate = true;
  float gate_dbfs = -50.0f;         // [-120, 0]
  int32_t gate_min_speech_ms = 40;  // [0, 10000]
  int32_t gate_hangover_ms = 1000;  // [0, 60000]

  // Empty string when valid, else "detector.hop_ms = 0 must be in [1, 5000]". Does not check
  // thresholds.size() (check_model does, against the labels).
  std::string check() const;
  bool operator==(const DetectorSettings&) const = default;
};

struct Model {
  FrontendConfig frontend;
  std::vector<std::string> labels;  // class names, output index order
  // Per-feature-coefficient normalisation applied before the network:
  // x' = (x - norm_mean[k]) * norm_inv_std[k], k = 0..num_features-1. Empty = identity.
  // Applied by normalise_features() below.
  std::vector<float> norm_mean;
  std::vector<float> norm_inv_std;
  std::vector<Op> ops;
  std::vector<Tensor> tensors;
  // Free-form provenance (config TOML, training summary as JSON). Not used by the runtime.
  std::string metadata_json;

  int find_tensor(const std::string& name) const;  // -1 if absent

  // int8 models only: per-tensor quantisation of the network input (normalised features).
  // Empty for float models; set = the model is int8 (see "int8 models" above).
  QuantParams input_quant;
  bool is_int8() const { return !input_quant.empty(); }

  // Format v3 (tkws.h section 8a). One flag per label, 1 = a keyword the streaming detector
  // may fire on, 0 = a class that never fires (e.g. "_unknown_", "_silence_"); empty = every
  // label is a keyword (files older than v3).
  std::vector<uint8_t> keyword_flags;
  bool is_keyword(size_t label_index) const {
    return keyword_flags.empty() ? true : keyword_flags[label_index] != 0;
  }
  DetectorSettings detector;  // streaming defaults (defaults for files older than v3)
};

// Activation shape [h][w][c] (NHWC, N = 1).
struct ActShape {
  int32_t h = 0, w = 0, c = 0;
  size_t size() const { return static_cast<size_t>(h) * w * c; }
  bool operator==(const ActShape&) const = default;
};

// TensorFlow padding along one axis of `in` cells, kernel >= 1, stride >= 1: the output size
// and the padding before and after. valid -> out = (in - kernel) / stride + 1 (0 if in <
// kernel), no padding; same -> out = ceil(in / stride), pad_total = max((out - 1) * stride +
// kernel - in, 0), before = pad_total / 2, after = the rest. The one place this formula lives:
// op_window() below and the training network (train/network.cpp) use it.
void tf_padding(int in, int kernel, int stride, Padding p, int32_t* out, int32_t* before,
                int32_t* after);

// Sliding-window geometry of a Conv2D / DepthwiseConv2D / MaxPool2D / AvgPool2D on one input
// size: tf_padding() along h and w (pad_top/left = before; the rest at the bottom/right).
struct Window {
  int32_t kh = 1, kw = 1, sh = 1, sw = 1;
  int32_t pad_top = 0, pad_left = 0;
  int32_t out_h = 0, out_w = 0;
};
Window op_window(const Op& op, ActShape in);

// Output shape of op i of `m` given its input shape: the one place shape rules live (used by
// check_model and the runtime planner). Empty string when the op applies, else a message
// "op 3 (Conv2D): expected weight [8][4][3][3], found [8][1][3][3]".
std::string op_output_shape(const Model& m, size_t op_index, ActShape in, ActShape* out);

// Feature normalisation (Model::norm_mean, norm_inv_std), in place on `rows` rows of
// `num_features` floats: x' = (x - mean[k]) * inv_std[k]. A null mean or inv_std skips that
// step. The one implementation for training (train/feature_set.cpp) and the runtime
// (runtime/pipeline.cpp); allocates nothing.
void normalise_features(float* x, size_t rows, int num_features, const float* mean,
                        const float* inv_std) noexcept;

// Input of the network: [num_frames][num_features][1] from the front-end settings.
ActShape model_input_shape(const Model& m);

// Structural check of a model: tensor indices in range, shapes consistent with the ops and
// the front end, labels non-empty, last op producing labels.size() values, keyword_flags and
// detector.thresholds of size 0 or labels.size() (flags 0 or 1), detector settings in range.
// Empty string when valid, else a message "op 3 (Conv2D): expected weight [8][4][3][3], found ...".
std::string check_model(const Model& m);

}  // namespace tkws
