// A full disk and an unwritable output folder: every command that writes a file fails with a
// message naming the file and the system's reason (exit code 1 for a failed write, 2 for an
// output refused before any work), and the file an earlier run wrote there is left intact,
// with no temporary files left behind. The disk is a 512 kB tmpfs mounted by the test (root);
// the read-only folder a tmpfs mounted read-only. Skipped with a message where mount is not
// permitted.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "../common/cli_util.h"
#include "../common/synth_data.h"
#include "fault_util.h"

namespace fs = std::filesystem;
using namespace tkws::testing;

namespace {

class DiskFault : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = temp_dir("disk_fault");
    data_ = make_synth_dataset(root_ + "/data", 4, 2, 2);
    std::ofstream(root_ + "/cfg.toml") << kTinyBaseConfig;
    CliResult r = run_tinykws("train --config " + root_ + "/cfg.toml --data " + data_ + " --out " +
                              root_ + "/run --quiet");
    ASSERT_EQ(r.code, 0) << r.out;
    model_ = root_ + "/run/model.tkws";
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  void SetUp() override {
    mnt_ = root_ + "/mnt";
    fs::create_directories(mnt_);
    if (::mount("tinykws_test", mnt_.c_str(), "tmpfs", 0, "size=512k") != 0)
      GTEST_SKIP() << "cannot mount a small tmpfs at " << mnt_ << " (" << std::strerror(errno)
                   << "); the full-disk tests need root";
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mnt_.c_str(), MNT_DETACH);
  }

  // Fills the file system of mnt_ to the last byte.
  void fill_disk() {
    FILE* f = std::fopen((mnt_ + "/filler").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::vector<char> block(4096, 'x');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
    }
    std::fclose(f);
    f = std::fopen((mnt_ + "/filler2").c_str(), "wb");  // the partial last block
    while (f && std::fputc('x', f) != EOF && std::fflush(f) == 0) {
    }
    if (f) std::fclose(f);
  }
  // Nothing but `keep` (and the fillers) in mnt_: no temporary files left.
  void expect_only(const std::vector<std::string>& keep) {
    for (auto& e : fs::directory_iterator(mnt_)) {
      std::string name = e.path().filename().string();
      if (name.rfind("filler", 0) == 0) continue;
      EXPECT_NE(std::find(keep.begin(), keep.end(), name), keep.end()) << "left behind: " << name;
    }
  }

  static inline std::string root_, data_, model_;
  std::string mnt_;
  bool mounted_ = false;
};

#define EXPECT_WRITE_FAILED(r, path, reason) \
  do {                                       \
    EXPECT_EQ((r).code, 1) << (r).out;       \
    EXPECT_CONTAINS((r).out, path);          \
    EXPECT_CONTAINS((r).out, reason);        \
  } while (0)

TEST_F(DiskFault, FullDiskGivesAClearErrorAndKeepsEarlierOutputs) {
  // Earlier outputs, written while there was room.
  const std::string q = mnt_ + "/q.tkws", js = mnt_ + "/eval.json", npy = mnt_ + "/f.npy";
  ASSERT_EQ(run_tinykws("quantize --model " + model_ + " --out " + q + " --mode fp16").code, 0);
  ASSERT_EQ(run_tinykws("eval --model " + model_ + " --data " + data_ + " --json " + js +
                        " --latency-runs 3 --latency-discard 1")
                .code,
            0);
  std::vector<std::string> wav = {
      data_ + "/up/" + fs::directory_iterator(data_ + "/up")->path().filename().string()};
  ASSERT_EQ(run_tinykws("features --model " + model_ + " " + wav[0] + " --out " + npy).code, 0);
  const std::string q0 = file_bytes(q), js0 = file_bytes(js), npy0 = file_bytes(npy);
  fill_disk();

  const char* enospc = std::strerror(ENOSPC);  // "No space left on device"
  CliResult r = run_tinykws("quantize --model " + model_ + " --out " + q + " --mode fp16");
  EXPECT_WRITE_FAILED(r, q, enospc);
  r = run_tinykws("eval --model " + model_ + " --data " + data_ + " --json " + js +
                  " --latency-runs 3 --latency-discard 1");
  EXPECT_WRITE_FAILED(r, js, enospc);
  r = run_tinykws("features --model " + model_ + " " + wav[0] + " --out " + npy);
  EXPECT_WRITE_FAILED(r, npy, enospc);
  r = run_tinykws("train --config " + root_ + "/cfg.toml --data " + data_ + " --out " + mnt_ +
                  "/run --quiet");
  EXPECT_WRITE_FAILED(r, mnt_ + "/run/", enospc);

  EXPECT_TRUE(file_bytes(q) == q0);
  EXPECT_TRUE(file_bytes(js) == js0);
  EXPECT_TRUE(file_bytes(npy) == npy0);
  expect_only({"q.tkws", "eval.json", "f.npy", "run"});
}

TEST_F(DiskFault, UnwritableOutputGivesAClearErrorAndKeepsEarlierOutputs) {
  const std::string q = mnt_ + "/q.tkws", js = mnt_ + "/eval.json";
  ASSERT_EQ(run_tinykws("quantize --model " + model_ + " --out " + q + " --mode fp16").code, 0);
  fs::create_directories(mnt_ + "/run");
  std::ofstream(mnt_ + "/run/model.tkws") << "an earlier model";
  const std::string q0 = file_bytes(q);
  ASSERT_EQ(::mount(nullptr, mnt_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0)
      << std::strerror(errno);

  const char* erofs = std::strerror(EROFS);  // "Read-only file system"
  CliResult r = run_tinykws("quantize --model " + model_ + " --out " + q + " --mode fp16");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, q);
  EXPECT_CONTAINS(r.out, erofs);
  r = run_tinykws("eval --model " + model_ + " --data " + data_ + " --json " + js +
                  " --latency-runs 3 --latency-discard 1");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, js);
  EXPECT_CONTAINS(r.out, erofs);
  r = run_tinykws("train --config " + root_ + "/cfg.toml --data " + data_ + " --out " + mnt_ +
                  "/run --quiet");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, mnt_ + "/run");
  EXPECT_CONTAINS(r.out, erofs);
  EXPECT_TRUE(file_bytes(q) == q0);
  EXPECT_EQ(file_bytes(mnt_ + "/run/model.tkws"), "an earlier model");
}

}  // namespace
