// `tinykws export` and the commands that need no training (info, predict, features) on models
// written here, through the binary (under $TINYKWS_TEST_EMULATOR when cross-compiled).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "export_test_util.h"
#include "tinykws/audio/wav.h"
#include "tinykws/common/fs.h"
#include "tinykws/format/tkws.h"

namespace tkws {
namespace {

namespace fs = std::filesystem;
using namespace tkws::testing;

#define EXPECT_CONTAINS(hay, needle) \
  EXPECT_NE((hay).find(needle), std::string::npos) << "'" << (needle) << "' not in:\n" << (hay)

ProcResult tinykws(const std::string& args) {
  const char* emu = std::getenv("TINYKWS_TEST_EMULATOR");
  return run_command(std::string(emu ? emu : "") + " " TINYKWS_BINARY_DIR "/tinykws " + args);
}

class ExportCli : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    model_ = path("tiny.tkws");
    write_model(model_, testing_models::tiny_model(3));
  }
  std::string model_;
};

TEST_F(ExportCli, InfoPredictFeaturesWithoutTraining) {
  const Model m = read_model(model_);
  write_wav_pcm16(
      path("a.wav"),
      testing_models::uniform_vector(static_cast<size_t>(m.frontend.clip_samples), 3, -0.2f, 0.2f),
      m.frontend.sample_rate);
  ProcResult r = tinykws("info " + model_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, "_silence_");
  r = tinykws("predict --model " + model_ + " " + path("a.wav"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, "a.wav");
  r = tinykws("features --model " + model_ + " " + path("a.wav") + " --out " + path("a.npy"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(path("a.npy")));
}

TEST_F(ExportCli, TfliteAndOnnxFiles) {
  ProcResult r = tinykws("export --model " + model_ + " --format tflite --out " + path("m.tflite"));
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string t = read_text_file(path("m.tflite"));
  ASSERT_GT(t.size(), 8u);
  EXPECT_EQ(t.substr(4, 4), "TFL3");
  EXPECT_CONTAINS(t, "\"labels\":[\"down\",\"up\",\"_silence_\"]");  // metadata
  r = tinykws("export --model " + model_ + " --format onnx --out " + path("m.onnx"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_CONTAINS(read_text_file(path("m.onnx")), "probabilities");
}

TEST_F(ExportCli, BadInputsExit2) {
  // An int8 model with per-channel dense weights: TFLite cannot take it.
  Model m = testing_models::int8_dense_model();
  Tensor& w = m.tensors[0];
  w.quant.axis = 0;
  w.quant.scale = {0.01f, 0.02f, 0.03f};
  w.quant.zero_point = {0, 0, 0};
  Tensor& b = m.tensors[1];
  b.quant.axis = 0;
  b.quant.scale = {0.05f * 0.01f, 0.05f * 0.02f, 0.05f * 0.03f};
  b.quant.zero_point = {0, 0, 0};
  ASSERT_EQ(check_model(m), "");
  write_model(path("pc.tkws"), m);
  ProcResult r =
      tinykws("export --model " + path("pc.tkws") + " --format tflite --out " + path("pc.tflite"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_CONTAINS(r.out, "op 0 (Dense) cannot be written as TFLite");
  EXPECT_CONTAINS(r.out, "per-channel");
  EXPECT_FALSE(fs::exists(path("pc.tflite")));
  // ONNX expresses it (DequantizeLinear with an axis).
  r = tinykws("export --model " + path("pc.tkws") + " --format onnx --out " + path("pc.onnx"));
  EXPECT_EQ(r.code, 0) << r.out;

  r = tinykws("export --model " + model_ + " --format tflite --out " + path("no/such/x.tflite"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_CONTAINS(r.out, "does not exist");
  r = tinykws("export --model " + path("missing.tkws") + " --format onnx --out " + path("x.onnx"));
  EXPECT_EQ(r.code, 2) << r.out;
  r = tinykws("export --model " + model_ + " --format c --out " + path("x.h"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_CONTAINS(r.out, "names the C source");
  r = tinykws("export --model " + model_ + " --format pb --out " + path("x.pb"));
  EXPECT_EQ(r.code, 2) << r.out;
}

// The C array compiles as C11 and as C++, is 16-byte aligned and holds the file's bytes.
TEST_F(ExportCli, CArrayCompilesAndHoldsTheBytes) {
  if (run_command("command -v cc && command -v c++").code != 0) GTEST_SKIP() << "no cc / c++";
  for (const std::string inner : {"tkws", "tflite"}) {
    const std::string src = path("kws_" + inner + ".c");
    ProcResult r =
        tinykws("export --model " + model_ + " --format c --inner " + inner + " --out " + src);
    ASSERT_EQ(r.code, 0) << r.out;
    ASSERT_TRUE(fs::exists(path("kws_" + inner + ".h")));
    const std::string expect_file = inner == "tkws" ? model_ : path("e.tflite");
    if (inner == "tflite") {
      ASSERT_EQ(tinykws("export --model " + model_ + " --format tflite --out " + expect_file).code,
                0);
    }
    const std::string arr = "g_kws_" + inner + "_model_data";
    // main.c: writes the array to a file and fails unless it is 16-byte aligned.
    const std::string main_c = "#include <stdio.h>\n#include <stdint.h>\n#include \"kws_" + inner +
                               ".h\"\n"
                               "int main(int argc, char** argv) {\n"
                               "  if ((uintptr_t)" +
                               arr +
                               " % 16 != 0) return 3;\n"
                               "  FILE* f = fopen(argv[1], \"wb\");\n"
                               "  return fwrite(" +
                               arr + ", 1, " + arr + "_size, f) == " + arr +
                               "_size && fclose(f) == 0 ? 0 : 4;\n}\n";
    write_file_atomic(path("main.c"), main_c);
    for (const std::string cc : {"cc -std=c11 -x c", "c++ -std=c++17 -x c++"}) {
      const std::string cmd = cc + " -Wall -Werror " + path("main.c") + " " + src + " -o " +
                              path("dump") + " && " + path("dump") + " " + path("dump.bin");
      r = run_command(cmd);
      ASSERT_EQ(r.code, 0) << cmd << "\n" << r.out;
      EXPECT_EQ(read_text_file(path("dump.bin")), read_text_file(expect_file)) << cc;
    }
  }
}

}  // namespace
}  // namespace tkws
