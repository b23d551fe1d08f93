// A search killed with SIGKILL (the search process and its training worker, as a cluster's
// time limit or a closed terminal kills the job's process group) while a trial is training:
// run again, it keeps the finished trial as it was (same row, same files, not retrained),
// resumes the interrupted one from its checkpoint, and ends with the results of a search that
// was never interrupted.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "../search/search_test_util.h"
#include "fault_util.h"
#include "tinykws/search/space.h"
#include "tinykws/search/store.h"

namespace fs = std::filesystem;
using namespace tkws::testing;
using namespace tkws::search;
using namespace std::chrono_literals;

namespace {

class SearchFault : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_dir("search_fault");
    data_ = make_synth_dataset(root_ + "/data", 6, 2, 2);
    std::string base = kTinyBaseConfig;
    base.replace(base.find("epochs = 2"), 10, "epochs = 8");  // trials long enough to kill
    write_text(root_ + "/base.toml", base);
    space_ = write_text(root_ + "/space.toml", R"(
base = "base.toml"
[axes]
"frontend.num_mfcc" = [6, 8, 10]
)");
  }
  void TearDown() override { fs::remove_all(root_); }
  Child search(const std::string& out) {
    return spawn_child({tinykws_binary(), "search", "--space", space_, "--data", data_, "--out",
                        out, "--jobs", "1", "--latency-runs", "5", "--latency-discard", "1"},
                       out + ".log");
  }
  std::string root_, data_, space_;
};

TEST_F(SearchFault, KilledMidTrialResumesWithoutLosingFinishedTrials) {
  std::vector<Trial> trials = expand_trials(load_space(space_));
  ASSERT_EQ(trials.size(), 3u);
  const std::string ref = root_ + "/ref", out = root_ + "/killed";
  Child r = search(ref);
  ASSERT_TRUE(wait_child(r, 600s));
  ASSERT_EQ(r.exit_code(), 0) << file_bytes(ref + ".log");

  // Kill once trial 0 is done and trial 1 has written a checkpoint (it is mid-training).
  Child k = search(out);
  const std::string t0 = out + "/trials/" + trials[0].id, t1 = out + "/trials/" + trials[1].id;
  bool mid_trial = false;
  for (int i = 0; i < 30000 && !mid_trial; ++i) {
    if (wait_child(k, 0ms)) break;  // ended on its own: the test cannot kill it in time
    mid_trial = fs::exists(t1 + "/checkpoint.pt") && !fs::exists(t1 + "/model.tkws");
    if (!mid_trial) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(mid_trial) << "trial 1 was never seen mid-training\n" << file_bytes(out + ".log");
  kill_group(k);
  ASSERT_TRUE(k.killed());
  {
    auto rows = rows_of(out + "/results.sqlite");
    ASSERT_EQ(rows.at(trials[0].id).status, "done");
    ASSERT_EQ(rows.at(trials[1].id).status, "running");
    EXPECT_EQ(rows.count(trials[2].id), 0u);
  }
  const auto t0_time = fs::last_write_time(t0 + "/model.tkws");
  const std::string t0_model = file_bytes(t0 + "/model.tkws");

  Child again = search(out);
  ASSERT_TRUE(wait_child(again, 600s));
  ASSERT_EQ(again.exit_code(), 0) << file_bytes(out + ".log");
  EXPECT_NE(file_bytes(out + ".log").find("3 here: 1 done already, 0 invalid, 2 to run"),
            std::string::npos)
      << file_bytes(out + ".log");
  // The finished trial was not touched; the interrupted one ran a second attempt (resumed).
  EXPECT_EQ(fs::last_write_time(t0 + "/model.tkws"), t0_time);
  EXPECT_TRUE(file_bytes(t0 + "/model.tkws") == t0_model);
  auto got = rows_of(out + "/results.sqlite"), want = rows_of(ref + "/results.sqlite");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got.at(trials[0].id).attempts, 1);
  EXPECT_EQ(got.at(trials[1].id).attempts, 2);
  EXPECT_EQ(got.at(trials[2].id).attempts, 1);
  for (auto& t : trials) {
    SCOPED_TRACE(t.params.dump());
    EXPECT_EQ(got.at(t.id).status, "done");
    EXPECT_EQ(got.at(t.id).val_accuracy, want.at(t.id).val_accuracy);
    EXPECT_EQ(got.at(t.id).size_bytes, want.at(t.id).size_bytes);
    EXPECT_TRUE(file_bytes(out + "/trials/" + t.id + "/model.tkws") ==
                file_bytes(ref + "/trials/" + t.id + "/model.tkws"));
  }
  EXPECT_TRUE(fs::exists(out + "/best.tkws"));
}

}  // namespace
