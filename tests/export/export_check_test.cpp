// Exported TFLite and ONNX graphs run by the real tools of each path, against the tinykws
// runtime: Arm NN's TFLite parser (CpuRef, in a child process: it aborts on what it cannot
// run), onnx.checker and onnxruntime. On real validation clips when TINYKWS_DATA is set, else on
// noise clips. Budgets: float probabilities within 1e-4 of the runtime's (float32 with the
// BatchNorm fold and another summation order: measured ~1e-6); int8: the same labels (the
// checkers' int8 kernels may round a requantisation differently by one step).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "../runtime/int8_test_util.h"
#include "export_test_util.h"
#include "tinykws/common/fs.h"
#include "tinykws/compress/quantize.h"
#include "tinykws/export/export.h"
#include "tinykws/format/tkws.h"

namespace tkws {
namespace {

namespace fs = std::filesystem;
using namespace tkws::testing;
using testing_models::dscnn_model;
using testing_models::tiny_model;

constexpr int kClips = 20;

// The benchmark DS-CNN with a normalisation, so the graph's SUB / MUL are exercised.
Model dscnn_with_norm() {
  Model m = dscnn_model(16, 2, 2, 11);
  testing_models::Rng rng(5);
  for (int k = 0; k < m.frontend.num_features(); ++k) {
    m.norm_mean.push_back(rng.uniform(-20, 5));
    m.norm_inv_std.push_back(rng.uniform(0.05f, 0.5f));
  }
  m.labels = {"down", "up"};
  return m;
}

class ExportCheck : public TempDirTest {
 protected:
  // Runs `tool` (armnn / ort) on the exported bytes and the clips' raw features; returns the
  // tool's probabilities [n][labels].
  std::vector<float> run_tool(const std::string& tool, const ExportResult& r, const Model& m,
                              const Clips& c) {
    const std::string model = path(tool == "armnn" ? "m.tflite" : "m.onnx");
    write_file_atomic(model, r.bytes.data(), r.bytes.size());
    write_f32(path("in.f32"), raw_features(m.frontend, c));
    const std::string n = std::to_string(c.samples.size());
    const std::string src = TINYKWS_SOURCE_DIR "/tests/export/";
    const std::string cmd =
        tool == "armnn" ? "/usr/bin/python3 " + src + "armnn_run.py " + model + " " +
                              path("in.f32") + " " + n + " " + path("out.f32")
                        : "NODE_PATH=" + node_dir() + "/node_modules node " + src + "ort_run.js " +
                              model + " " + path("in.f32") + " " + n + " " + path("out.f32");
    const ProcResult res = run_command(cmd);
    EXPECT_EQ(res.code, 0) << cmd << "\n" << res.out;
    std::vector<float> p = read_f32(path("out.f32"));
    EXPECT_EQ(p.size(), c.samples.size() * m.labels.size()) << res.out;
    return p;
  }

  // Float: max |p_tool - p_runtime| <= 1e-4. int8: same argmax on every clip.
  void compare(const std::string& what, const std::vector<float>& tool,
               const std::vector<float>& rt, size_t labels, bool int8, const Clips& c) {
    ASSERT_EQ(tool.size(), rt.size());
    double max_diff = 0;
    int same = 0;
    for (size_t i = 0; i < rt.size(); ++i)
      max_diff = std::max<double>(max_diff, std::fabs(tool[i] - rt[i]));
    for (size_t k = 0; k < rt.size() / labels; ++k)
      same += argmax(&tool[k * labels], labels) == argmax(&rt[k * labels], labels);
    std::printf("%s on %s: max |dp| %.3g, same label %d / %zu\n", what.c_str(), c.origin.c_str(),
                max_diff, same, rt.size() / labels);
    if (int8) {
      EXPECT_EQ(same, static_cast<int>(rt.size() / labels)) << what;
      EXPECT_LE(max_diff, 0.05) << what;  // a few 1/256 steps of the int8 softmax
    } else {
      EXPECT_LE(max_diff, 1e-4) << what;
    }
  }

  void check_tflite(const Model& m, const std::string& what) {
    if (std::string why = missing_armnn(); !why.empty()) GTEST_SKIP() << why;
    const Clips c = check_clips(m.frontend, kClips);
    const ExportResult r = export_tflite(m, what);
    compare("tflite " + what + " (Arm NN CpuRef)", run_tool("armnn", r, m, c), runtime_probs(m, c),
            m.labels.size(), m.is_int8(), c);
  }

  void check_onnx(const Model& m, const std::string& what) {
    const ExportResult r = export_onnx(m, what);
    if (std::string why = missing_onnx(); why.empty()) {
      write_file_atomic(path("c.onnx"), r.bytes.data(), r.bytes.size());
      const ProcResult res = run_command(
          "/usr/bin/python3 " TINYKWS_SOURCE_DIR "/tests/export/onnx_check.py " + path("c.onnx"));
      ASSERT_EQ(res.code, 0) << res.out;
      const auto j = nlohmann::json::parse(res.out.substr(res.out.find('{')));
      EXPECT_EQ(j["opset"], 13);
      const ActShape in = model_input_shape(m);
      EXPECT_EQ(j["inputs"]["features"], (std::vector<int>{1, 1, in.h, in.w}));
      EXPECT_EQ(j["outputs"]["probabilities"],
                (std::vector<int>{1, static_cast<int>(m.labels.size())}));
      EXPECT_EQ(nlohmann::json::parse(j["metadata"]["labels"].get<std::string>()), m.labels);
      const auto meta = nlohmann::json::parse(j["metadata"]["tinykws"].get<std::string>());
      EXPECT_EQ(meta["frontend"]["frame_length"], m.frontend.frame_length);
    } else {
      std::printf("onnx.checker skipped: %s\n", why.c_str());
    }
    if (std::string why = missing_ort(); !why.empty()) GTEST_SKIP() << why;
    const Clips c = check_clips(m.frontend, kClips);
    compare("onnx " + what + " (onnxruntime)", run_tool("ort", r, m, c), runtime_probs(m, c),
            m.labels.size(), m.is_int8(), c);
  }

  Model int8_of(const Model& m) {
    const Clips calib = check_clips(m.frontend, 32);
    const std::vector<float> feats = normalised_features(m, calib);
    return quantize_int8(m, feats.data(), static_cast<int>(calib.samples.size()));
  }
};

TEST_F(ExportCheck, TfliteFloatMatchesRuntimeOnArmNN) {
  check_tflite(dscnn_with_norm(), "dscnn");
}
TEST_F(ExportCheck, TfliteEveryOpFloat) {
  check_tflite(tiny_model(3), "tiny_model");  // conv, BN, dw, pools, GAP, dense, softmax
}
TEST_F(ExportCheck, TfliteFp16ExportsAsFloat32) {
  Model m = dscnn_with_norm();
  to_float16(m);
  EXPECT_NE(export_tflite(m, "fp16").notes.at(0).find("float32"), std::string::npos);
  check_tflite(m, "dscnn fp16");
}
TEST_F(ExportCheck, TfliteInt8SameLabelsOnArmNN) {
  check_tflite(int8_of(dscnn_with_norm()), "dscnn int8");
}
TEST_F(ExportCheck, TfliteInt8EveryOp) {
  check_tflite(int8_of(tiny_model(3)), "tiny_model int8");
}
TEST_F(ExportCheck, OnnxFloatMatchesRuntime) {
  check_onnx(dscnn_with_norm(), "dscnn");
}
TEST_F(ExportCheck, OnnxEveryOpFloat) {
  check_onnx(tiny_model(3), "tiny_model");
}
TEST_F(ExportCheck, OnnxInt8SameLabels) {
  check_onnx(int8_of(dscnn_with_norm()), "dscnn int8");
}
TEST_F(ExportCheck, OnnxInt8EveryOp) {
  check_onnx(int8_of(tiny_model(3)), "tiny_model int8");
}

// BatchNorm after MaxPool (seed-b's pattern): float as MUL + ADD / Mul + Add, int8 as the 1x1
// DEPTHWISE_CONV_2D / grouped Conv quantize_int8 makes of it. The normalisation is the check
// clips' mean and standard deviation per coefficient, as training computes it: with raw MFCCs
// (c0 in the hundreds) this random network is so ill-conditioned that single requantisation
// rounding differences (fixed point here, float in the checkers) move probabilities by 0.09.
TEST_F(ExportCheck, StandaloneBatchNormFloatAndInt8) {
  Model m = int8_testing::pool_bn_model(31, 8, 2);
  const std::vector<float> f = raw_features(m.frontend, check_clips(m.frontend, 32));
  const size_t k = static_cast<size_t>(m.frontend.num_features()), n = f.size() / k;
  for (size_t j = 0; j < k; ++j) {
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; ++i) s1 += f[i * k + j], s2 += double{f[i * k + j]} * f[i * k + j];
    const double mean = s1 / n, var = std::max(s2 / n - mean * mean, 1e-6);
    m.norm_mean.push_back(static_cast<float>(mean));
    m.norm_inv_std.push_back(static_cast<float>(1.0 / std::sqrt(var)));
  }
  check_tflite(m, "pool_bn");
  check_onnx(m, "pool_bn");
  const Model q = int8_of(m);
  ASSERT_EQ(q.ops[2].type, OpType::kDepthwiseConv2D);
  check_tflite(q, "pool_bn int8");
  check_onnx(q, "pool_bn int8");
}

// A dense layer flattening a spatial activation: NHWC order in TFLite, NCHW columns in ONNX.
TEST_F(ExportCheck, DenseOnSpatialInput) {
  Model m = tiny_model(4);
  // Drop the GAP (op index 10), so dense reads [1][2][6] = 12 values.
  m.ops.erase(m.ops.begin() + 10);
  Tensor& w = m.tensors[static_cast<size_t>(m.find_tensor("fc.weight"))];
  w.shape = {3, 12};
  w.f32 = testing_models::uniform_vector(36, 9, -1, 1);
  ASSERT_EQ(check_model(m), "");
  check_tflite(m, "dense on [1][2][6]");
  check_onnx(m, "dense on [1][2][6]");
}

// Trained models named by $TINYKWS_EXPORT_MODELS (paths separated by ':', e.g. the default
// preset and the seed presets), float and int8 (quantised here on the check clips), both formats.
TEST_F(ExportCheck, TrainedModelsFromEnvironment) {
  const char* env = std::getenv("TINYKWS_EXPORT_MODELS");
  if (!env || !*env) GTEST_SKIP() << "TINYKWS_EXPORT_MODELS not set";
  std::string list = env;
  for (size_t start = 0; start <= list.size();) {
    const size_t end = std::min(list.find(':', start), list.size());
    const std::string file = list.substr(start, end - start);
    start = end + 1;
    if (file.empty()) continue;
    Model m = read_model(file);
    if (!m.is_int8()) {
      check_tflite(m, file);
      check_onnx(m, file);
      try {
        m = int8_of(m);
      } catch (const std::invalid_argument& e) {
        std::printf("%s: no int8 check, tinykws cannot quantise it: %s\n", file.c_str(), e.what());
        continue;
      }
    }
    check_tflite(m, file + " int8");
    check_onnx(m, file + " int8");
  }
}

}  // namespace
}  // namespace tkws
