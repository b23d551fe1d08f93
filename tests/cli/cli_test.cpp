// End-to-end tests of the `tinykws` command line: exit codes (0 ok, 1 failure, 2 bad input,
// 3 an eval constraint failed) and the messages users see, on a synthetic dataset made here.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../common/cli_util.h"
#include "../common/synth_data.h"
#include "tinykws/common/fs.h"
#include "tinykws/common/npy.h"
#include "tinykws/format/tkws.h"

namespace fs = std::filesystem;

namespace {

using Result = tkws::testing::CliResult;
Result tinykws(const std::string& args) {
  return tkws::testing::run_tinykws(args);
}

const char* kConfig = tkws::testing::kTinyBaseConfig;

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = tkws::testing::temp_dir("cli");
    data_ = tkws::testing::make_synth_dataset(root_ + "/data", 6, 2, 2);
    std::ofstream(root_ + "/cfg.toml") << kConfig;
    Result r = tinykws("train --config " + root_ + "/cfg.toml --data " + data_ + " --out " + root_ +
                       "/run --quiet");
    ASSERT_EQ(r.code, 0) << r.out;
    model_ = root_ + "/run/model.tkws";
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static std::string root_, data_, model_;

  // A copy of the model with `edit` applied to its bytes.
  std::string damaged(const std::string& name, std::function<void(std::string&)> edit) {
    std::string bytes = tkws::read_text_file(model_);
    edit(bytes);
    std::string path = root_ + "/" + name + ".tkws";
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
};
std::string Cli::root_, Cli::data_, Cli::model_;

TEST_F(Cli, UsageErrorsExit2) {
  EXPECT_EQ(tinykws("").code, 2);
  EXPECT_EQ(tinykws("frobnicate").code, 2);
  EXPECT_EQ(tinykws("eval").code, 2);  // --model missing
  EXPECT_EQ(tinykws("--help").code, 0);
}

TEST_F(Cli, TrainOutputsAndMetrics) {
  EXPECT_TRUE(fs::exists(root_ + "/run/metrics.json"));
  auto m = nlohmann::json::parse(tkws::read_text_file(root_ + "/run/metrics.json"));
  EXPECT_EQ(m["history"].size(), 2u);
  EXPECT_TRUE(m.contains("val_accuracy"));
}

TEST_F(Cli, EvalJsonHasTheContractFields) {
  std::string js = root_ + "/eval.json";
  Result r = tinykws(
      "eval --model " + model_ + " --data " + data_ +
      " --split val --latency-runs 20 --latency-discard 10 --latency-pause-ms 0 --json " + js);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, "accuracy");
  auto j = nlohmann::json::parse(tkws::read_text_file(js));
  for (auto key : {"accuracy", "n", "errors", "labels", "confusion", "size_bytes", "zipped_bytes",
                   "latency_ms"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["n"], 8);  // 2 validation speakers x 2 clips x 2 labels
  EXPECT_EQ(j["size_bytes"], fs::file_size(model_));
  EXPECT_LT(j["zipped_bytes"].get<int>(), j["size_bytes"].get<int>());
  for (auto part : {"preprocess", "model", "total"}) {
    EXPECT_TRUE(j["latency_ms"][part].contains("median")) << part;
    EXPECT_TRUE(j["latency_ms"][part].contains("std")) << part;
  }
  int sum = 0;
  for (auto& row : j["confusion"])
    for (auto& v : row) sum += v.get<int>();
  EXPECT_EQ(sum, 8);

  // --scores: one CSV row per clip with its probabilities, which sum to 1.
  const std::string csv = root_ + "/scores.csv";
  r = tinykws("eval --model " + model_ + " --data " + data_ + " --split val" + " --scores " + csv +
              " --latency-runs 2 --latency-discard 1 --latency-pause-ms 0");
  ASSERT_EQ(r.code, 0) << r.out;
  std::istringstream in(tkws::read_text_file(csv));
  std::string line;
  std::getline(in, line);
  std::string header = "clip,word,group,truth";
  for (auto& l : j["labels"]) header += "," + l.get<std::string>();
  EXPECT_EQ(line, header);
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    ASSERT_EQ(f.size(), 4 + j["labels"].size()) << line;
    EXPECT_EQ(f[2], "keyword") << line;
    EXPECT_EQ(f[3], f[1]) << "a keyword clip must get its own label: " << line;
    double p = 0;
    for (size_t k = 4; k < f.size(); ++k) p += std::stod(f[k]);
    EXPECT_NEAR(p, 1.0, 1e-4) << line;
  }
  EXPECT_EQ(rows, 8);
}

// Quick latency settings for eval runs in these tests (the default is the course's 20 s).
const std::string kQuickLatency = " --latency-runs 6 --latency-discard 2 --latency-pause-ms 0";

TEST_F(Cli, EvalConstraintsAndProfile) {
  const std::string eval =
      "eval --split val --model " + model_ + " --data " + data_ + kQuickLatency;
  // Pass: exit 0, the table, and "constraints" and "profile" in the JSON.
  std::string js = root_ + "/pass.json";
  Result r = tinykws(eval +
                     " --profile --constraints 'accuracy>=0%, size<1MB,zipped_size<1MiB, "
                     "latency<10s' --json " +
                     js);
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* w : {"constraint", "limit", "result", "< 1 MB", "pass", "all met (4 of 4)",
                        "per-layer profile", "front end", "Conv2D", "Dense", "MACs", "other"})
    EXPECT_CONTAINS(r.out, w);
  auto j = nlohmann::json::parse(tkws::read_text_file(js));
  ASSERT_TRUE(j.contains("constraints"));
  EXPECT_EQ(j["constraints"]["pass"], true);
  ASSERT_EQ(j["constraints"]["results"].size(), 4u);
  EXPECT_EQ(j["constraints"]["results"][1]["metric"], "size");
  EXPECT_EQ(j["constraints"]["results"][1]["value"], j["size_bytes"]);
  ASSERT_TRUE(j.contains("profile"));
  const auto& rows = j["profile"]["rows"];
  ASSERT_GE(rows.size(), 3u);  // front end + the network's steps
  EXPECT_EQ(rows[0]["name"], "front end");
  EXPECT_EQ(rows.back()["last_op"], 5);  // conv, bn, relu, gap, dense, softmax: ops 0..5
  // conv 3x3/2 same on 49x8x1 -> 25x4x6: 600 outputs x 9 MACs (BatchNorm folded in).
  EXPECT_EQ(rows[1]["macs"], 5400);
  EXPECT_EQ(j["profile"]["runs"], 6);
  EXPECT_TRUE(j["profile"]["network_ms"].contains("median"));
  for (auto key : {"accuracy", "n", "errors", "labels", "confusion", "size_bytes", "zipped_bytes",
                   "latency_ms"})
    EXPECT_TRUE(j.contains(key)) << key;

  // Fail: exit 3, the table says which, and the report and JSON are still written.
  js = root_ + "/fail.json";
  r = tinykws(eval + " --constraints 'accuracy>=0,size<10B' --json " + js);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_CONTAINS(r.out, "FAIL");
  EXPECT_CONTAINS(r.out, "< 10 B");
  EXPECT_CONTAINS(r.out, "FAILED: 1 of 2 not met");
  EXPECT_CONTAINS(r.out, "latency");
  j = nlohmann::json::parse(tkws::read_text_file(js));
  EXPECT_EQ(j["constraints"]["pass"], false);
  EXPECT_EQ(j["constraints"]["failed"], 1);
  EXPECT_EQ(j["constraints"]["results"][0]["pass"], true);
  EXPECT_EQ(j["constraints"]["results"][1]["pass"], false);
  EXPECT_FALSE(j.contains("profile"));
}

TEST_F(Cli, EvalBadConstraintsExit2BeforeAnyWork) {
  struct Case {
    const char* arg;
    const char* words;
  } cases[] = {
      {"'size<50kb'", "unknown size unit \"kb\""}, {"'latency<40'", "needs a unit"},
      {"'speed<3ms'", "unknown metric"},           {"'accuracy=0.99'", "\"=\""},
      {"'accuracy>0.9,'", "empty item"},           {"''", "no constraints"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.arg);
    // A bad constraint is rejected before evaluating: nothing of the report is printed.
    Result r = tinykws("eval --split val --model " + model_ + " --data " + data_ +
                       " --constraints " + c.arg);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_CONTAINS(r.out, "--constraints");
    EXPECT_CONTAINS(r.out, c.words);
    EXPECT_EQ(r.out.find("true\\pred"), std::string::npos) << r.out;  // confusion table
    EXPECT_EQ(r.out.find("preprocess"), std::string::npos) << r.out;  // latency lines
  }
}

TEST_F(Cli, PredictInfoFeatures) {
  std::string wav =
      data_ + "/up/" + fs::directory_iterator(data_ + "/up")->path().filename().string();
  Result p = tinykws("predict --json --model " + model_ + " " + wav);
  ASSERT_EQ(p.code, 0) << p.out;
  auto j = nlohmann::json::parse(p.out);
  ASSERT_EQ(j.size(), 1u);
  double sum =
      j[0]["probabilities"]["up"].get<double>() + j[0]["probabilities"]["down"].get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-5);

  Result info = tinykws("info " + model_);
  ASSERT_EQ(info.code, 0) << info.out;
  EXPECT_CONTAINS(info.out, "labels: down, up");
  EXPECT_CONTAINS(info.out, "Conv2D");
  EXPECT_CONTAINS(info.out, "49 frames x 8 features");
  EXPECT_CONTAINS(info.out, "streaming detector: ");  // its RAM: state and heap bytes
  EXPECT_CONTAINS(info.out, "with kept rows stored once (shift_kept_rows): ");

  std::string npy = root_ + "/f.npy";
  Result f = tinykws("features --model " + model_ + " " + wav + " --out " + npy);
  ASSERT_EQ(f.code, 0) << f.out;
  auto arr = tkws::read_npy<float>(npy);
  ASSERT_EQ(arr.shape.size(), 2u);
  EXPECT_EQ(arr.shape[0], 49u);
  EXPECT_EQ(arr.shape[1], 8u);
  Result fc = tinykws("features --config " + root_ + "/cfg.toml " + wav + " --out " + npy);
  EXPECT_EQ(fc.code, 0) << fc.out;
}

// `quantize` on a float run's model gives the int8 file the same training writes with
// [quantize] mode = "int8" (same seed: same calibration clips), and refuses what it cannot do.
TEST_F(Cli, QuantizeMatchesTheTrainingsInt8) {
  std::ofstream(root_ + "/int8.toml")
      << std::string(kConfig) + "\n[quantize]\nmode = \"int8\"\ncalibration_clips = 10\n";
  Result r = tinykws("train --config " + root_ + "/int8.toml --data " + data_ + " --out " + root_ +
                     "/run8 --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string q = root_ + "/q8.tkws";
  r = tinykws("quantize --model " + model_ + " --out " + q + " --data " + data_ +
              " --calibration-clips 10 --seed 0");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, "calibration: 10 of ");
  EXPECT_CONTAINS(r.out, "validation accuracy: ");
  // The same model but for the provenance metadata.
  tkws::Model mq = tkws::read_model(q), mt = tkws::read_model(root_ + "/run8/model.tkws");
  EXPECT_CONTAINS(mq.metadata_json, "\"quantized_by\":\"tinykws quantize\"");
  mq.metadata_json = mt.metadata_json = "";
  EXPECT_EQ(tkws::serialize_model(mq), tkws::serialize_model(mt));

  // Another seed: another calibration subset, still a valid int8 model.
  r = tinykws("quantize --model " + model_ + " --out " + root_ + "/q8b.tkws --data " + data_ +
              " --calibration-clips 10 --seed 5");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(tinykws("info " + root_ + "/q8b.tkws").code, 0);

  r = tinykws("quantize --mode fp16 --model " + model_ + " --out " + root_ + "/q16.tkws --data " +
              data_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_LT(fs::file_size(root_ + "/q16.tkws"), fs::file_size(model_));

  r = tinykws("quantize --model " + q + " --out " + root_ + "/again.tkws --data " + data_);
  EXPECT_EQ(r.code, 2);
  EXPECT_CONTAINS(r.out, "not a float model");
  r = tinykws("quantize --model " + model_ + " --out " + model_ + " --data " + data_);
  EXPECT_EQ(r.code, 2);
  EXPECT_CONTAINS(r.out, "--out must differ");
  r = tinykws("quantize --mode int4 --model " + model_ + " --out " + q);
  EXPECT_EQ(r.code, 2);
  r = tinykws("quantize --mode fp16 --model " + root_ + "/q16.tkws --out " + root_ +
              "/q16b.tkws --data " + data_);
  EXPECT_EQ(r.code, 2);
  EXPECT_CONTAINS(r.out, "already stored as fp16");
  // An --out that cannot be written is refused before any work, with the reason.
  for (const auto& [out, words] :
       {std::pair{root_ + "/no/such/dir/q.tkws", "does not exist"}, std::pair{root_, "is a folder"},
        std::pair{std::string("''"), "--out is empty"}}) {
    r = tinykws("quantize --model " + model_ + " --out " + out + " --data " + data_);
    EXPECT_EQ(r.code, 2) << out << "\n" << r.out;
    EXPECT_CONTAINS(r.out, words);
    EXPECT_EQ(r.out.find("calibration:"), std::string::npos) << r.out;
  }
}

TEST_F(Cli, DamagedModelsExit2WithReason) {
  struct Case {
    const char* name;
    std::function<void(std::string&)> edit;
    const char* words;
  } cases[] = {
      {"magic", [](std::string& b) { b[0] = 'X'; }, "magic"},
      {"version", [](std::string& b) { b[4] = 9; }, "version"},
      {"truncated", [](std::string& b) { b.resize(b.size() / 2); }, "truncated"},
      {"checksum", [](std::string& b) { b[b.size() / 2] ^= 0x5a; }, "checksum"},
      {"empty", [](std::string& b) { b.clear(); }, ".tkws"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string path = damaged(c.name, c.edit);
    for (std::string cmd : {"info " + path, "eval --split val --data " + data_ + " --model " + path,
                            "predict --model " + path + " x.wav"}) {
      Result r = tinykws(cmd);
      EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
      EXPECT_CONTAINS(r.out, c.words);
      EXPECT_CONTAINS(r.out, path);
    }
  }
  EXPECT_EQ(tinykws("info " + root_ + "/missing.tkws").code, 2);
}

// A label that is not UTF-8 (the export fuzz target's finding): every command that reads the
// model says so and exits 2; before, `export` and `predict --json` stopped with the JSON
// writer's exception (exit 1).
TEST_F(Cli, ModelWithNonUtf8LabelExit2) {
  const std::string path = damaged("latin1", [](std::string& b) {
    const std::string labels = std::string(1, '\x04') + "down" + '\x02' + "up";  // str, str
    const size_t at = b.find(labels);
    ASSERT_NE(at, std::string::npos) << "labels section not found";
    b[at + 7] = '\xA9';  // "up" -> "u\xA9"
    const uint32_t crc = tkws::crc32(reinterpret_cast<const uint8_t*>(b.data()), b.size() - 4);
    for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = static_cast<char>(crc >> (8 * i));
  });
  for (std::string cmd :
       {"info " + path, "export --model " + path + " --format onnx --out " + root_ + "/latin1.onnx",
        "predict --json --model " + path + " x.wav"}) {
    Result r = tinykws(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
    EXPECT_CONTAINS(r.out, "label 1: expected UTF-8 text without control characters");
    EXPECT_CONTAINS(r.out, path);
  }
}

TEST_F(Cli, BadInputsExit2) {
  fs::create_directories(root_ + "/emptydir");
  Result r = tinykws("train --config " + root_ + "/cfg.toml --data " + root_ + "/emptydir --out " +
                     root_ + "/x --quiet");
  EXPECT_EQ(r.code, 2);
  EXPECT_CONTAINS(r.out, "emptydir");

  std::ofstream(root_ + "/bad.toml") << std::string(kConfig) + "\n[prune]\nfinal_sparsity = 2\n";
  std::ofstream(root_ + "/badval.toml") << "[frontend]\nnum_mel_bins = 0\n";
  r = tinykws("train --config " + root_ + "/badval.toml --data " + data_ + " --out " + root_ +
              "/x");
  EXPECT_EQ(r.code, 2);
  EXPECT_CONTAINS(r.out, "num_mel_bins");

  std::ofstream(root_ + "/labels.toml") << std::string(kConfig) + "labels = [\"up\", \"left\"]\n";
  r = tinykws("train --config " + root_ + "/labels.toml --data " + data_ + " --out " + root_ +
              "/x --quiet");
  EXPECT_EQ(r.code, 2);
  EXPECT_CONTAINS(r.out, "left");

  std::ofstream(root_ + "/not.wav") << "this is not audio";
  r = tinykws("predict --model " + model_ + " " + root_ + "/not.wav");
  EXPECT_EQ(r.code, 2);
  EXPECT_CONTAINS(r.out, "not.wav");

  std::string wav = root_ + "/trunc.wav";
  std::string good = tkws::read_text_file(
      data_ + "/up/" + fs::directory_iterator(data_ + "/up")->path().filename().string());
  std::ofstream(wav, std::ios::binary) << good.substr(0, good.size() / 3);
  r = tinykws("predict --model " + model_ + " " + wav);
  EXPECT_EQ(r.code, 2);
  EXPECT_CONTAINS(r.out, "trunc.wav");
  EXPECT_CONTAINS(r.out, "truncated");

  r = tinykws("eval --model " + model_ + " --data " + data_ + " --split test");
  EXPECT_EQ(r.code, 2);  // the synthetic set has no test clips
  EXPECT_CONTAINS(r.out, "test");
}

}  // namespace
