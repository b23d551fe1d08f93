// Training killed with SIGKILL (the real `tinykws train` process, on a synthetic dataset) at
// exact points of its file writes (kill_preload.c: while the checkpoint is written, before it
// is renamed into place, while model.tkws is written, before metrics.json is renamed) and at
// random times (mid-epoch): `train --resume` ends with the same model.tkws bytes as a run
// that was never interrupted.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "../common/cli_util.h"
#include "../common/synth_data.h"
#include "fault_util.h"

namespace fs = std::filesystem;
using namespace tkws::testing;
using namespace std::chrono_literals;

namespace {

bool has_temporary(const std::string& dir, const std::string& prefix) {
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) return true;
  return false;
}

class TrainFault : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = temp_dir("train_fault");
    data_ = make_synth_dataset(root_ + "/data", 6, 3, 2);
    // kTinyBaseConfig with 60 epochs (~15 ms each here): a checkpoint per epoch, room for
    // kills mid-run.
    std::string text = std::string(kTinyBaseConfig);
    text.replace(text.find("epochs = 2"), 10, "epochs = 60");
    std::ofstream(root_ + "/cfg.toml") << text;
    // The reference: one uninterrupted run.
    const auto t0 = std::chrono::steady_clock::now();
    Child c = train(root_ + "/ref", {}, false);
    ASSERT_TRUE(wait_child(c, 300s));
    ref_ms_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    ASSERT_EQ(c.exit_code(), 0) << file_bytes(root_ + "/ref.log");
    ref_model_ = file_bytes(root_ + "/ref/model.tkws");
    ASSERT_FALSE(ref_model_.empty());
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  static Child train(const std::string& out, std::vector<std::pair<std::string, std::string>> env,
                     bool resume = true) {
    std::vector<std::string> argv = {tinykws_binary(), "train",     "--config", root_ + "/cfg.toml",
                                     "--data",         data_,       "--out",    out,
                                     "--quiet",        "--threads", "1"};
    if (resume) argv.push_back("--resume");
    return spawn_child(argv, out + ".log", env);
  }
  // One run killed by the preload at (match, nth, at); asserts it died by SIGKILL.
  static void killed_at(const std::string& out, const std::string& match, int nth,
                        const std::string& at) {
    auto env = preload_env(TINYKWS_KILL_PRELOAD);
    env.push_back({"TKWS_KILL_MATCH", match});
    env.push_back({"TKWS_KILL_NTH", std::to_string(nth)});
    env.push_back({"TKWS_KILL_AT", at});
    Child c = train(out, env);
    ASSERT_TRUE(wait_child(c, 300s));
    ASSERT_TRUE(c.killed()) << match << " " << at << ": status " << c.status << "\n"
                            << file_bytes(out + ".log");
  }
  static inline std::string root_, data_, ref_model_;
  static inline int64_t ref_ms_ = 0;  // wall time of the uninterrupted run
};

TEST_F(TrainFault, KilledWhileWritingCheckpointOrModelResumesToTheSameBytes) {
  const std::string out = root_ + "/exact";
  // 1. In the middle of writing epoch 2's checkpoint: a torn temporary file, epoch 1's intact.
  killed_at(out, "checkpoint.pt.tmp", 2, "write");
  EXPECT_TRUE(fs::exists(out + "/checkpoint.pt"));
  EXPECT_TRUE(has_temporary(out, "checkpoint.pt.tmp"));
  EXPECT_FALSE(fs::exists(out + "/model.tkws"));
  // 2. Resumed from epoch 1, killed after writing epoch 3's checkpoint, before the rename.
  killed_at(out, "checkpoint.pt.tmp", 2, "rename");
  // 3. Resumed, killed while writing model.tkws (its temporary file; the model is not there).
  killed_at(out, "model.tkws.tmp", 1, "write");
  EXPECT_FALSE(fs::exists(out + "/model.tkws"));
  // 4. Resumed, killed just before metrics.json is renamed into place (model.tkws is there).
  killed_at(out, "metrics.json.tmp", 1, "rename");
  EXPECT_FALSE(fs::exists(out + "/metrics.json"));
  // 5. Resumed to the end.
  Child c = train(out, {});
  ASSERT_TRUE(wait_child(c, 300s));
  ASSERT_EQ(c.exit_code(), 0) << file_bytes(out + ".log");
  EXPECT_TRUE(file_bytes(out + "/model.tkws") == ref_model_) << "model.tkws differs";
  EXPECT_TRUE(fs::exists(out + "/metrics.json"));
  EXPECT_FALSE(has_temporary(out, "checkpoint.pt.tmp"));  // the torn one was cleared
}

TEST_F(TrainFault, SigkillAtRandomTimesResumesToTheSameBytes) {
  const std::string out = root_ + "/random";
  const std::string ckpt = out + "/checkpoint.pt";
  // Each run is killed mid-training: once it has written a checkpoint of its own (an epoch
  // ended), after a further random 0-60 ms (epochs take ~15 ms here). Fixed seed.
  std::mt19937 rng(20261204);
  std::uniform_int_distribution<int> extra_ms(0, 60);
  int kills = 0;
  bool finished = false;
  for (int round = 0; round < 5 && !finished; ++round) {
    std::error_code ec;
    const auto before = fs::last_write_time(ckpt, ec);
    Child c = train(out, {});
    bool new_epoch = false;
    while (!new_epoch && !wait_child(c, 5ms)) {
      const auto t = fs::last_write_time(ckpt, ec);
      new_epoch = !ec && t != before;
    }
    if (new_epoch && !wait_child(c, std::chrono::milliseconds(extra_ms(rng)))) {
      kill_group(c);
      ++kills;
      continue;
    }
    ASSERT_TRUE(wait_child(c, 300s));
    ASSERT_EQ(c.exit_code(), 0) << file_bytes(out + ".log");
    finished = true;  // it ended before its kill time
  }
  if (!finished) {
    Child c = train(out, {});
    ASSERT_TRUE(wait_child(c, 300s));
    ASSERT_EQ(c.exit_code(), 0) << file_bytes(out + ".log");
  }
  std::printf("SIGKILLed %d times mid-training (uninterrupted run: %lld ms)\n", kills,
              static_cast<long long>(ref_ms_));
  EXPECT_GE(kills, 1) << "no run was killed: training ended within 60 ms of its first epoch";
  EXPECT_TRUE(file_bytes(out + "/model.tkws") == ref_model_)
      << "model.tkws differs after " << kills << " kills";
}

}  // namespace
