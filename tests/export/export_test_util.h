// Shared by the export tests: clips to check exported models on (real validation clips when the
// data is there, else deterministic noise), raw features, the runtime's probabilities, float32
// files for the checker scripts, and running child processes.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../format/test_models.h"
#include "tinykws/audio/clips.h"
#include "tinykws/audio/dataset.h"
#include "tinykws/frontend/frontend.h"
#include "tinykws/runtime/pipeline.h"

namespace tkws::testing {

struct Clips {
  std::vector<std::vector<float>> samples;
  bool real = false;
  std::string origin;
};

// Up to n validation clips of $TINYKWS_DATA (every label in turn), else n clips of noise.
inline Clips check_clips(const FrontendConfig& f, int n) {
  Clips c;
  const char* all = std::getenv("TINYKWS_DATA");  // the first of its ':'-separated folders
  const std::string env = all ? std::string(all).substr(0, std::string(all).find(':')) : "";
  if (!env.empty() && std::filesystem::is_directory(env)) {
    const Dataset ds = scan_dataset(env);
    std::vector<const ClipRef*> val = ds.select(Split::kVal), pick;
    for (size_t i = 0; i < val.size() && static_cast<int>(pick.size()) < n;
         i += std::max<size_t>(1, val.size() / n))
      pick.push_back(val[i]);
    c.samples = load_clips(pick, f.sample_rate, f.clip_samples, 2).samples;
    c.real = true;
    c.origin = std::to_string(pick.size()) + " validation clips of " + env;
    return c;
  }
  for (int i = 0; i < n; ++i)
    c.samples.push_back(
        testing_models::uniform_vector(static_cast<size_t>(f.clip_samples), 100 + i, -0.3f, 0.3f));
  c.origin = std::to_string(n) + " noise clips (TINYKWS_DATA not set)";
  return c;
}

// Raw features [n][frames][features] (before normalisation), as `tinykws features` writes them.
inline std::vector<float> raw_features(const FrontendConfig& f, const Clips& c) {
  Frontend fe(f);
  const size_t per = static_cast<size_t>(fe.num_frames()) * fe.num_features();
  std::vector<float> out(per * c.samples.size());
  for (size_t i = 0; i < c.samples.size(); ++i) fe.compute(c.samples[i].data(), &out[i * per]);
  return out;
}

// The runtime's probabilities [n][labels] (fast kernels).
inline std::vector<float> runtime_probs(const Model& m, const Clips& c) {
  KwsPipeline p;
  if (Status s = p.create(m); !s.ok()) throw std::runtime_error(s.message);
  std::vector<float> out(m.labels.size() * c.samples.size());
  for (size_t i = 0; i < c.samples.size(); ++i)
    p.run(c.samples[i].data(), &out[i * m.labels.size()]);
  return out;
}

// Normalised features of the clips, for int8 calibration.
inline std::vector<float> normalised_features(const Model& m, const Clips& c) {
  KwsPipeline p;
  if (Status s = p.create(m); !s.ok()) throw std::runtime_error(s.message);
  const size_t per = static_cast<size_t>(p.num_frames()) * p.num_features();
  std::vector<float> out(per * c.samples.size());
  for (size_t i = 0; i < c.samples.size(); ++i) p.features(c.samples[i].data(), &out[i * per]);
  return out;
}

inline void write_f32(const std::string& path, const std::vector<float>& v) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
}
inline std::vector<float> read_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::vector<float> v(static_cast<size_t>(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}

struct ProcResult {
  int code;
  std::string out;
};
inline ProcResult run_command(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// A fresh folder per test under the system temp folder, removed afterwards.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tkws_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& f) const { return (dir_ / f).string(); }
  std::filesystem::path dir_;
};

inline int argmax(const float* p, size_t n) {
  return static_cast<int>(std::max_element(p, p + n) - p);
}

// Checker tools: present, or the reason a test skips.
inline std::string missing_armnn() {
  return run_command("/usr/bin/python3 -c 'import pyarmnn'").code == 0
             ? ""
             : "python3-pyarmnn not installed (scripts/setup.sh)";
}
inline std::string missing_onnx() {
  return run_command("/usr/bin/python3 -c 'import onnx'").code == 0
             ? ""
             : "python3-onnx not installed (scripts/setup.sh)";
}
// The folder holding node_modules/onnxruntime-node: $TINYKWS_NODE_DIR or the setup default.
inline std::string node_dir() {
  const char* env = std::getenv("TINYKWS_NODE_DIR");
  const char* home = std::getenv("HOME");
  return env && *env ? env : std::string(home ? home : "/root") + "/.cache/tinykws-node";
}
inline std::string missing_ort() {
  return std::filesystem::is_directory(node_dir() + "/node_modules/onnxruntime-node")
             ? ""
             : "npm onnxruntime-node not in " + node_dir() + " (scripts/setup.sh)";
}

}  // namespace tkws::testing
