// End to end, with the real `tinykws` binary on a synthetic dataset: a single-process search,
// the same search as two shards plus `search merge` (same trials, same results), resume, and
// the exit code 2 of bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>

#include "../common/cli_util.h"
#include "search_test_util.h"
#include "tinykws/common/fs.h"
#include "tinykws/search/space.h"
#include "tinykws/search/store.h"

namespace fs = std::filesystem;
using namespace tkws;
using namespace tkws::search;
using tkws::testing::rows_of;

namespace {

using Result = tkws::testing::CliResult;
Result tinykws(const std::string& args) {
  return tkws::testing::run_tinykws(args);
}

class SearchE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = tkws::testing::temp_dir("search_e2e");
    data_ = tkws::testing::make_synth_dataset(root_ + "/data", 6, 2, 2);
    tkws::testing::write_text(root_ + "/base.toml", tkws::testing::kTinyBaseConfig);
    space_ = tkws::testing::write_text(root_ + "/space.toml", R"(
base = "base.toml"
mode = "grid"
constraints = "accuracy>0.4,size<50kB,latency<40ms"
[axes]
"frontend.num_mfcc" = [6, 8]
"model.width_multiplier" = [0.5, 1.0]
)");
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static std::string args(const std::string& out) {
    return "search --space " + space_ + " --data " + data_ + " --out " + out +
           " --latency-runs 5 --latency-discard 1";
  }
  static std::string root_, data_, space_;
};
std::string SearchE2E::root_, SearchE2E::data_, SearchE2E::space_;

TEST_F(SearchE2E, ShardsPlusMergeEqualASingleProcessRun) {
  const std::string single = root_ + "/single", sharded = root_ + "/sharded";
  Result r = tinykws(args(single) + " --jobs 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, "search: 4 trials (grid)");
  EXPECT_CONTAINS(r.out, "Pareto front of feasible trials");
  EXPECT_CONTAINS(r.out, "<- best");
  EXPECT_TRUE(fs::exists(single + "/best.tkws"));
  EXPECT_TRUE(fs::exists(single + "/pareto.json"));

  Result s0 = tinykws(args(sharded) + " --shard 0/2");
  ASSERT_EQ(s0.code, 0) << s0.out;
  EXPECT_CONTAINS(s0.out, "shard 0/2: 2 here");
  Result s1 = tinykws(args(sharded) + " --shard 1/2");
  ASSERT_EQ(s1.code, 0) << s1.out;
  // Shards write only their own files into the shared folder.
  EXPECT_TRUE(fs::exists(sharded + "/shard-0-of-2.sqlite"));
  EXPECT_TRUE(fs::exists(sharded + "/shard-1-of-2.sqlite"));
  EXPECT_FALSE(fs::exists(sharded + "/results.sqlite"));
  EXPECT_FALSE(fs::exists(sharded + "/best.tkws"));
  EXPECT_FALSE(fs::exists(sharded + "/pareto.json"));
  EXPECT_EQ(rows_of(sharded + "/shard-0-of-2.sqlite").size(), 2u);

  Result m = tinykws("search merge --out " + sharded);
  ASSERT_EQ(m.code, 0) << m.out;
  EXPECT_CONTAINS(m.out, "merged 4 trials (4 done) of 4");

  auto a = rows_of(single + "/results.sqlite");
  auto b = rows_of(sharded + "/results.sqlite");
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  for (auto& [id, ra] : a) {
    ASSERT_TRUE(b.count(id)) << id;
    const TrialRecord& rb = b.at(id);
    EXPECT_EQ(ra.status, "done");
    EXPECT_EQ(rb.status, "done");
    EXPECT_EQ(ra.index, rb.index);
    EXPECT_EQ(ra.params, rb.params);
    EXPECT_EQ(ra.val_accuracy, rb.val_accuracy) << id;  // deterministic training: exact
    EXPECT_EQ(ra.size_bytes, rb.size_bytes) << id;
    EXPECT_EQ(ra.zipped_bytes, rb.zipped_bytes) << id;
    EXPECT_EQ(ra.parameters, rb.parameters) << id;
    EXPECT_GT(ra.size_bytes, 0);
    EXPECT_GT(ra.latency_ms, 0.0);  // measured, but machine noise: not compared
    EXPECT_EQ(ra.run_dir, "trials/" + id);
  }
  auto pa = nlohmann::json::parse(read_text_file(single + "/pareto.json"));
  auto pb = nlohmann::json::parse(read_text_file(sharded + "/pareto.json"));
  EXPECT_EQ(pa["best"], pb["best"]);
  EXPECT_EQ(pa["trials"].size(), 4u);
  EXPECT_EQ(read_text_file(single + "/best.tkws"), read_text_file(sharded + "/best.tkws"));

  // Rerunning a finished search trains nothing.
  Result again = tinykws(args(single));
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_CONTAINS(again.out, "4 done already, 0 invalid, 0 to run");
}

TEST_F(SearchE2E, ResumeSkipsDoneTrialsAndRedoesRunningOnes) {
  const std::string out = root_ + "/resume";
  std::vector<Trial> trials = expand_trials(load_space(space_));
  ASSERT_EQ(trials.size(), 4u);
  // As if killed: trial 0 finished (marker numbers), trial 1 was running; 2 and 3 are in
  // shard 1 of 2 and are not this shard's business.
  {
    fs::create_directories(out);
    ResultStore db(out + "/shard-0-of-2.sqlite");
    TrialRecord done;
    done.id = trials[0].id;
    done.index = 0;
    done.params = trials[0].params.dump();
    done.status = "done";
    done.val_accuracy = 0.123;
    done.size_bytes = 42;
    done.latency_ms = 0.5;
    done.run_dir = "trials/" + done.id;
    db.put(done);
    TrialRecord running = done;
    running.id = trials[2].id;  // index 2: shard 0 of 2
    running.index = 2;
    running.params = trials[2].params.dump();
    running.status = "running";
    running.attempts = 1;
    running.run_dir = "trials/" + running.id;
    db.put(running);
  }
  Result r = tinykws(args(out) + " --shard 0/2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, "2 here: 1 done already, 0 invalid, 1 to run");
  auto rows = rows_of(out + "/shard-0-of-2.sqlite");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows.at(trials[0].id).val_accuracy, 0.123);  // kept, not retrained
  EXPECT_EQ(rows.at(trials[0].id).size_bytes, 42);
  EXPECT_FALSE(fs::exists(out + "/trials/" + trials[0].id));
  const TrialRecord& redone = rows.at(trials[2].id);
  EXPECT_EQ(redone.status, "done");
  EXPECT_EQ(redone.attempts, 2);
  const std::string model = out + "/trials/" + trials[2].id + "/model.tkws";
  ASSERT_TRUE(fs::exists(model));
  EXPECT_EQ(redone.size_bytes, static_cast<int64_t>(fs::file_size(model)));  // measured anew
}

TEST_F(SearchE2E, BadInputExits2WithAClearMessage) {
  auto space_with = [&](const std::string& name, const std::string& axes) {
    return tkws::testing::write_text(root_ + "/" + name + ".toml",
                                     "base = \"base.toml\"\n[axes]\n" + axes);
  };
  const std::string rest = " --data " + data_ + " --out " + root_ + "/bad";
  Result r =
      tinykws("search --space " + space_with("unknown", "\"frontend.mel_binz\" = [16]\n") + rest);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_CONTAINS(r.out, "frontend.mel_binz is not a known setting");
  r = tinykws("search --space " + space_with("empty", "\"frontend.num_mfcc\" = []\n") + rest);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_CONTAINS(r.out, "axis \"frontend.num_mfcc\" is empty");
  r = tinykws("search --space " + space_ + rest + " --constraints 'accuracy>>0.9'");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_CONTAINS(r.out, "accuracy>>0.9");
  r = tinykws("search --space " + space_ + rest + " --shard 2/2");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_CONTAINS(r.out, "0 <= I < N");
  r = tinykws("search --space " + root_ + "/missing.toml" + rest);
  EXPECT_EQ(r.code, 2) << r.out;
  fs::create_directories(root_ + "/empty_out");
  r = tinykws("search merge --out " + root_ + "/empty_out");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_CONTAINS(r.out, "holds no shard-I-of-N.sqlite files");
  EXPECT_FALSE(fs::exists(root_ + "/bad/results.sqlite"));  // nothing started
}

}  // namespace
