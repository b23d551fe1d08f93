// The SQLite results store (round trip, persistence, NULLs for unfinished trials) and the
// ranking: dominance, the Pareto front, constraint feasibility and the best trial.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include "search_test_util.h"
#include "tinykws/common/error.h"
#include "tinykws/search/pareto.h"
#include "tinykws/search/runner.h"
#include "tinykws/search/store.h"

namespace fs = std::filesystem;
using namespace tkws;
using namespace tkws::search;

namespace {

TrialRecord done_row(const std::string& id, int64_t index, double acc, int64_t size, double lat) {
  TrialRecord r;
  r.id = id;
  r.index = index;
  r.params = "{\"model.width_multiplier\":" + std::to_string(index) + "}";
  r.status = "done";
  r.val_accuracy = acc;
  r.size_bytes = size;
  r.zipped_bytes = size / 2;
  r.latency_ms = lat;
  r.run_dir = "trials/" + id;
  return r;
}

TEST(Store, RoundTripAndReopen) {
  std::string dir = tkws::testing::temp_dir("store");
  std::string path = dir + "/results.sqlite";
  TrialRecord a = done_row("00000000000000aa", 1, 0.975, 12345, 0.25);
  a.latency_std_ms = 0.01;
  a.preprocess_ms = 0.2;
  a.model_ms = 0.05;
  a.train_seconds = 3.5;
  a.parameters = 777;
  a.sparsity = 0.6;
  a.attempts = 2;
  TrialRecord b;
  b.id = "00000000000000bb";
  b.index = 0;
  b.params = "{}";
  b.status = "failed";
  b.val_accuracy = 0.5;  // not stored: only done rows carry results
  b.error = "exit code 1: boom";
  {
    ResultStore db(path);
    db.put(a);
    db.put(b);
    db.set_meta("base_hash", "1234");
  }
  ResultStore db(path);
  EXPECT_EQ(db.meta("base_hash").value_or(""), "1234");
  EXPECT_FALSE(db.meta("nope").has_value());
  auto all = db.all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, b.id);  // ordered by trial index
  auto got = db.get(a.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->params, a.params);
  EXPECT_EQ(got->status, "done");
  EXPECT_DOUBLE_EQ(got->val_accuracy, 0.975);
  EXPECT_EQ(got->size_bytes, 12345);
  EXPECT_EQ(got->zipped_bytes, 6172);
  EXPECT_DOUBLE_EQ(got->latency_ms, 0.25);
  EXPECT_DOUBLE_EQ(got->latency_std_ms, 0.01);
  EXPECT_DOUBLE_EQ(got->preprocess_ms, 0.2);
  EXPECT_DOUBLE_EQ(got->model_ms, 0.05);
  EXPECT_DOUBLE_EQ(got->train_seconds, 3.5);
  EXPECT_EQ(got->parameters, 777);
  EXPECT_DOUBLE_EQ(got->sparsity, 0.6);
  EXPECT_EQ(got->attempts, 2);
  EXPECT_EQ(got->run_dir, "trials/00000000000000aa");
  EXPECT_FALSE(got->updated_at.empty());
  auto fb = db.get(b.id);
  EXPECT_EQ(fb->error, "exit code 1: boom");
  EXPECT_DOUBLE_EQ(fb->val_accuracy, 0.0);
  // Replacing a row keeps one row per id.
  a.status = "running";
  db.put(a);
  EXPECT_EQ(db.all().size(), 2u);
  EXPECT_EQ(db.get(a.id)->status, "running");
  // The results are NULL in SQL for a row that is not done.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "SELECT count(*) FROM trials WHERE val_accuracy IS NULL", -1, &st,
                     nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 2);
  sqlite3_finalize(st);
  sqlite3_close(raw);
  fs::remove_all(dir);
}

TEST(Store, ReadOnlyOpenOfANonDatabaseFails) {
  std::string dir = tkws::testing::temp_dir("store_bad");
  tkws::testing::write_text(dir + "/x.sqlite", "not a database at all, just text\n");
  EXPECT_THROW(ResultStore(dir + "/x.sqlite", true), std::runtime_error);
  fs::remove_all(dir);
}

TEST(Shard, ParsesZeroBasedIndex) {
  Shard s = parse_shard("3/8");
  EXPECT_EQ(s.index, 3);
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(s.db_name(), "shard-3-of-8.sqlite");
  EXPECT_EQ(Shard{}.db_name(), "results.sqlite");
  EXPECT_THROW(parse_shard("8/8"), InputError);
  EXPECT_THROW(parse_shard("1/0"), InputError);
  EXPECT_THROW(parse_shard("1"), InputError);
  EXPECT_THROW(parse_shard("-1/4"), InputError);
}

TEST(Pareto, DominanceAndFront) {
  // accuracy (max), size (min), latency (min)
  std::vector<Objectives> p = {
      {0.99, 5000, 1.0},  // 0: front (most accurate)
      {0.98, 3000, 1.0},  // 1: front (smaller)
      {0.98, 3000, 2.0},  // 2: dominated by 1 (slower)
      {0.97, 6000, 0.5},  // 3: front (fastest)
      {0.96, 6000, 0.6},  // 4: dominated by 3
      {0.99, 5000, 1.0},  // 5: equal to 0: both stay
      {0.90, 2000, 3.0},  // 6: front (smallest)
  };
  EXPECT_TRUE(dominates(p[1], p[2]));
  EXPECT_FALSE(dominates(p[2], p[1]));
  EXPECT_FALSE(dominates(p[0], p[5]));
  EXPECT_FALSE(dominates(p[0], p[1]));
  EXPECT_EQ(pareto_front(p), (std::vector<size_t>{0, 5, 1, 3, 6}));
  EXPECT_TRUE(pareto_front({}).empty());
}

TEST(Pareto, ConstraintsFilterAndBestPrefersSmallerOnTies) {
  std::vector<TrialRecord> rows = {
      done_row("a", 0, 0.99, 60000, 1.0),  // too big
      done_row("b", 1, 0.98, 20000, 1.0),  // feasible
      done_row("c", 2, 0.98, 10000, 2.0),  // feasible, same accuracy, smaller: best
      done_row("d", 3, 0.90, 5000, 0.5),   // too inaccurate
  };
  TrialRecord f;
  f.id = "e";
  f.index = 4;
  f.status = "failed";
  rows.push_back(f);
  auto cs = parse_constraints("accuracy>0.95,size<50kB,latency<40ms");
  Ranking r = rank_trials(rows, cs);
  ASSERT_EQ(r.done.size(), 4u);
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.feasible, (std::vector<bool>{false, true, true, false}));
  EXPECT_FALSE(r.front_of_all);
  ASSERT_TRUE(r.best.has_value());
  EXPECT_EQ(r.done[*r.best].id, "c");
  // Front of the feasible ones: b (faster) and c (smaller).
  ASSERT_EQ(r.front.size(), 2u);
  std::string table = pareto_table(r, cs);
  EXPECT_NE(table.find("<- best"), std::string::npos) << table;
  EXPECT_NE(table.find("width_multiplier=2"), std::string::npos) << table;
  auto j = pareto_json(r, "accuracy>0.95");
  EXPECT_EQ(j["best"], "c");
  EXPECT_EQ(j["trials"].size(), 4u);
  EXPECT_EQ(j["trials"][0]["feasible"], false);
  EXPECT_EQ(j["trials"][2]["pareto"], true);
  // No constraints: everything is feasible; the most accurate wins.
  Ranking all = rank_trials(rows, {});
  EXPECT_EQ(all.done[*all.best].id, "a");
  // Nothing feasible: no best, the front is over all done trials.
  Ranking none = rank_trials(rows, parse_constraints("accuracy>0.999"));
  EXPECT_FALSE(none.best.has_value());
  EXPECT_TRUE(none.front_of_all);
  EXPECT_FALSE(none.front.empty());
}

}  // namespace
