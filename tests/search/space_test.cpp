// Search spaces: parsing, grid and random expansion, applying dotted paths to the base
// config, trial ids, and the InputErrors of bad spaces.
#include <gtest/gtest.h>

#include <set>

#include "search_test_util.h"
#include "tinykws/common/error.h"
#include "tinykws/config/config.h"
#include "tinykws/search/space.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace tkws;
using namespace tkws::search;

namespace {

class Space : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tkws::testing::temp_dir("space");
    tkws::testing::write_text(dir_ + "/configs/base.toml", tkws::testing::kTinyBaseConfig);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // A space file in dir_/spaces/ whose base is ../configs/base.toml (relative to the space).
  SearchSpace space(const std::string& body) {
    std::string path = tkws::testing::write_text(dir_ + "/spaces/space.toml",
                                                 "base = \"../configs/base.toml\"\n" + body);
    return load_space(path);
  }
  std::vector<Trial> trials(const std::string& body) { return expand_trials(space(body)); }
  std::string error_of(const std::string& body) {
    try {
      trials(body);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(Space, GridIsTheCartesianProductInFileOrderLastAxisFastest) {
  auto ts = trials(R"(
[axes]
"model.width_multiplier" = [0.5, 1.0]
"frontend.num_mfcc" = [4, 6, 8]
)");
  ASSERT_EQ(ts.size(), 6u);
  std::set<std::string> ids;
  for (size_t i = 0; i < ts.size(); ++i) {
    EXPECT_EQ(ts[i].index, static_cast<int64_t>(i));
    EXPECT_TRUE(ts[i].invalid.empty());
    ids.insert(ts[i].id);
  }
  EXPECT_EQ(ids.size(), 6u);
  // width_multiplier is the first axis in the file (though "frontend" sorts first): slowest.
  EXPECT_EQ(ts[0].params, (json{{"model.width_multiplier", 0.5}, {"frontend.num_mfcc", 4}}));
  EXPECT_EQ(ts[1].params, (json{{"model.width_multiplier", 0.5}, {"frontend.num_mfcc", 6}}));
  EXPECT_EQ(ts[3].params, (json{{"model.width_multiplier", 1.0}, {"frontend.num_mfcc", 4}}));
  // The trial config is the base with the values applied.
  Config c = parse_config(ts[5].config_text);
  EXPECT_EQ(c.frontend.num_mfcc, 8);
  EXPECT_FLOAT_EQ(c.model.width_multiplier, 1.0f);
  EXPECT_EQ(c.train.epochs, 2);  // untouched base values stay
}

TEST_F(Space, UnquotedDottedKeysAndSubTablesMeanTheSame) {
  auto a = trials("[axes]\nfrontend.num_mfcc = [4, 6]\n");
  auto b = trials("[axes.frontend]\nnum_mfcc = [4, 6]\n");
  auto c = trials("[axes]\n\"frontend.num_mfcc\" = [4, 6]\n");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(a[1].id, b[1].id);
  EXPECT_EQ(a[1].id, c[1].id);
}

TEST_F(Space, RandomSamplingIsDeterministicDistinctAndInsideTheGrid) {
  const std::string body = R"(
mode = "random"
samples = 5
seed = 7
[axes]
"frontend.num_mfcc" = [2, 3, 4, 5, 6, 7, 8]
"model.width_multiplier" = [0.5, 1.0, 2.0]
"train.batch_size" = [8, 16]
)";
  auto a = trials(body);
  auto b = trials(body);
  ASSERT_EQ(a.size(), 5u);
  std::set<std::string> ids;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].index, static_cast<int64_t>(i));
    ids.insert(a[i].id);
  }
  EXPECT_EQ(ids.size(), 5u);
  std::set<std::string> grid;
  std::string grid_body = body.substr(body.find("[axes]"));
  for (auto& t : trials(grid_body)) grid.insert(t.id);
  ASSERT_EQ(grid.size(), 42u);
  for (auto& id : ids) EXPECT_TRUE(grid.count(id)) << id;
  // Asking for more samples than points gives every point once.
  auto all = trials("mode = \"random\"\nsamples = 100\n" + grid_body);
  std::set<std::string> all_ids;
  for (auto& t : all) all_ids.insert(t.id);
  EXPECT_EQ(all.size(), 42u);
  EXPECT_EQ(all_ids, grid);
}

TEST_F(Space, AppliesArrayElementsAndCreatesMissingSections) {
  auto ts = trials(R"(
[axes]
"model.layers[0].filters" = [4, 12]
"prune.final_sparsity" = [0.5]
"model.layers[0].kernel" = [[5, 3]]
)");
  ASSERT_EQ(ts.size(), 2u);
  Config c = parse_config(ts[1].config_text);
  EXPECT_EQ(c.model.layers[0].filters, 12);
  EXPECT_EQ(c.model.layers[0].kernel_h, 5);
  EXPECT_EQ(c.model.layers[0].kernel_w, 3);
  EXPECT_TRUE(c.prune.enabled);
  EXPECT_FLOAT_EQ(c.prune.final_sparsity, 0.5f);
  EXPECT_EQ(c.model.layers.size(), 6u);
}

// A space's base config may itself have a base: the axes edit the merged config.
TEST_F(Space, BaseConfigWithItsOwnBase) {
  tkws::testing::write_text(dir_ + "/configs/child.toml",
                            "base = \"base.toml\"\n[train]\nepochs = 3\n");
  const std::string path = tkws::testing::write_text(
      dir_ + "/spaces/child-space.toml",
      "base = \"../configs/child.toml\"\n[axes]\n\"frontend.num_mfcc\" = [4, 6]\n");
  auto ts = expand_trials(load_space(path));
  ASSERT_EQ(ts.size(), 2u);
  Config c = parse_config(ts[1].config_text);
  EXPECT_EQ(c.frontend.num_mfcc, 6);
  EXPECT_EQ(c.train.epochs, 3);          // the child's
  EXPECT_EQ(c.model.layers.size(), 6u);  // the base's
}

TEST_F(Space, TrialIdsAreStable) {
  json p = {{"frontend.num_mel_bins", 16}, {"frontend.features", "mfcc"}};
  json q = json::object();
  q["frontend.features"] = "mfcc";  // other insertion order, same assignment
  q["frontend.num_mel_bins"] = 16;
  EXPECT_EQ(trial_id(p), trial_id(q));
  // Pinned: ids name result rows and run folders across versions and machines.
  EXPECT_EQ(p.dump(), R"({"frontend.features":"mfcc","frontend.num_mel_bins":16})");
  EXPECT_EQ(trial_id(p), hex64(fnv1a64(p.dump())));
  EXPECT_EQ(hex64(fnv1a64("")), "cbf29ce484222325");
  EXPECT_EQ(hex64(fnv1a64("a")), "af63dc4c8601ec8c");
  EXPECT_EQ(trial_id(p).size(), 16u);
  // An integer and a float are different values.
  EXPECT_NE(trial_id({{"model.width_multiplier", 1}}), trial_id({{"model.width_multiplier", 1.0}}));
  // Same space parsed twice, same ids; an axis reordering keeps them too.
  auto a = trials("[axes]\n\"frontend.num_mfcc\" = [4, 6]\n\"train.batch_size\" = [8]\n");
  auto b = trials("[axes]\n\"train.batch_size\" = [8]\n\"frontend.num_mfcc\" = [4, 6]\n");
  EXPECT_EQ(a[0].id, b[0].id);
  EXPECT_EQ(a[1].id, b[1].id);
}

TEST_F(Space, UnknownFieldIsAnInputErrorNamingIt) {
  std::string e = error_of("[axes]\n\"frontend.num_mel_binz\" = [16, 40]\n");
  EXPECT_NE(e.find("frontend.num_mel_binz"), std::string::npos) << e;
  EXPECT_NE(e.find("not a known setting"), std::string::npos) << e;
  e = error_of("[axes]\n\"frontnd.num_mel_bins\" = [16]\n");
  EXPECT_NE(e.find("frontnd"), std::string::npos) << e;
  e = error_of("[axes]\n\"model.layers[9].filters\" = [16]\n");
  EXPECT_NE(e.find("[9] does not exist"), std::string::npos) << e;
  // An index too large for size_t (fuzz/regressions/space/index-out-of-range.toml): an
  // InputError, not std::out_of_range.
  e = error_of("[axes]\n\"model.layers[99999999999999999999999].filters\" = [4]\n");
  EXPECT_NE(e.find("bad index"), std::string::npos) << e;
  e = error_of("[axes]\n\"frontend.num_mfcc\" = [\"many\"]\n");  // wrong type
  EXPECT_NE(e.find("frontend.num_mfcc"), std::string::npos) << e;
}

TEST_F(Space, EmptyAxisIsAnInputError) {
  std::string e = error_of("[axes]\n\"frontend.num_mel_bins\" = []\n");
  EXPECT_NE(e.find("\"frontend.num_mel_bins\" is empty"), std::string::npos) << e;
  e = error_of("[axes]\n\"frontend.num_mel_bins\" = 16\n");
  EXPECT_NE(e.find("must be an array"), std::string::npos) << e;
}

TEST_F(Space, BadSpaceKeysAreInputErrors) {
  EXPECT_NE(error_of("mood = \"grid\"\n").find("unknown key \"mood\""), std::string::npos);
  EXPECT_NE(error_of("mode = \"random\"\n").find("needs samples"), std::string::npos);
  EXPECT_NE(error_of("mode = \"sweep\"\n").find("\"grid\" or \"random\""), std::string::npos);
  EXPECT_NE(error_of("constraints = \"accuracy>>1\"\n").find("constraints"), std::string::npos);
  EXPECT_THROW(load_space(dir_ + "/nope.toml"), InputError);
  tkws::testing::write_text(dir_ + "/spaces/nobase.toml", "base = \"missing.toml\"\n");
  EXPECT_THROW(load_space(dir_ + "/spaces/nobase.toml"), InputError);
}

TEST_F(Space, InvalidCombinationsFailUnlessSkipped) {
  // num_mfcc = 30 needs 40 mel bins; (30, 20) is the one bad combination.
  const std::string axes = R"(
[axes]
"frontend.num_mel_bins" = [20, 40]
"frontend.num_mfcc" = [8, 30]
)";
  std::string e = error_of(axes);
  EXPECT_NE(e.find("num_mfcc"), std::string::npos) << e;
  EXPECT_NE(e.find("skip_invalid"), std::string::npos) << e;
  auto ts = trials("skip_invalid = true\n" + axes);
  ASSERT_EQ(ts.size(), 4u);
  EXPECT_TRUE(ts[0].invalid.empty());
  EXPECT_FALSE(ts[1].invalid.empty());
  EXPECT_TRUE(ts[2].invalid.empty());
  EXPECT_TRUE(ts[3].invalid.empty());
}

}  // namespace
