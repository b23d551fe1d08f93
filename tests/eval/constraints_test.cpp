// Constraint parsing (metrics, operators, units, bad strings), pass/fail evaluation, and the
// table / JSON that `tinykws eval --constraints` prints.
#include "tinykws/eval/constraints.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tinykws/common/error.h"

namespace tkws {
namespace {

TEST(Constraints, ParsesTheCourseConstraints) {
  auto cs = parse_constraints("accuracy>0.994,size<50kB,latency<40ms");
  ASSERT_EQ(cs.size(), 3u);
  EXPECT_EQ(cs[0].metric, Metric::kAccuracy);
  EXPECT_EQ(cs[0].op, Compare::kGreater);
  EXPECT_DOUBLE_EQ(cs[0].limit, 0.994);
  EXPECT_EQ(cs[0].text, "accuracy>0.994");
  EXPECT_EQ(cs[1].metric, Metric::kSize);
  EXPECT_EQ(cs[1].op, Compare::kLess);
  EXPECT_DOUBLE_EQ(cs[1].limit, 50000);
  EXPECT_EQ(cs[1].unit, "kB");
  EXPECT_EQ(cs[2].metric, Metric::kLatency);
  EXPECT_DOUBLE_EQ(cs[2].limit, 40);
}

TEST(Constraints, Operators) {
  EXPECT_EQ(parse_constraint("size<1B").op, Compare::kLess);
  EXPECT_EQ(parse_constraint("size<=1B").op, Compare::kLessEqual);
  EXPECT_EQ(parse_constraint("size>1B").op, Compare::kGreater);
  EXPECT_EQ(parse_constraint("size>=1B").op, Compare::kGreaterEqual);
  EXPECT_EQ(parse_constraint("  latency <=  40 ms ").op, Compare::kLessEqual);
  EXPECT_EQ(parse_constraint("  latency <=  40 ms ").text, "latency <=  40 ms");
}

TEST(Constraints, Units) {
  struct Case {
    const char* text;
    double limit;  // canonical: fraction, bytes, ms
  } cases[] = {
      {"accuracy>0.994", 0.994}, {"accuracy>99.4%", 0.994},   {"acc >= 99.4 %", 0.994},
      {"accuracy>=1", 1.0},      {"size<50kB", 50000},        {"size<50KB", 50000},
      {"size<50 KiB", 51200},    {"size<50kiB", 51200},       {"size<2MB", 2e6},
      {"size<1MiB", 1048576},    {"size<12345", 12345},       {"size<12345B", 12345},
      {"model_size<.5kB", 500},  {"zipped_size<8.3kB", 8300}, {"zipped<10KiB", 10240},
      {"zip_size<=100B", 100},   {"latency<40ms", 40},        {"latency<500us", 0.5},
      {"latency<500µs", 0.5},    {"latency<0.04s", 40},       {"LATENCY<1ms", 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_NEAR(parse_constraint(c.text).limit, c.limit, 1e-9 * std::max(1.0, c.limit));
  }
  EXPECT_EQ(parse_constraint("zipped<10KiB").metric, Metric::kZippedSize);
  // Percent and microseconds give exactly the double of the fraction / milliseconds.
  EXPECT_EQ(parse_constraint("accuracy>99.4%").limit, parse_constraint("accuracy>0.994").limit);
  EXPECT_EQ(parse_constraint("latency<300us").limit, parse_constraint("latency<0.3ms").limit);
}

TEST(Constraints, BadStringsAreInputErrorsThatQuoteTheConstraint) {
  struct Case {
    const char* text;
    const char* words;  // expected in the message
  } cases[] = {
      {"", "no constraints"},
      {"   ", "no constraints"},
      {"accuracy", "no comparison"},
      {"accuracy=0.9", "\"=\""},
      {"accuracy==0.9", "\"==\""},
      {"accuracy!=0.9", "\"!=\""},
      {"accuracy<>0.9", "unsupported comparison"},
      {"<0.9", "no metric"},
      {"speed<3ms", "unknown metric \"speed\""},
      {"accuracy>", "no limit"},
      {"accuracy>high", "not a number"},
      {"accuracy>99.4", "at most 1"},
      {"accuracy>101%", "at most 100%"},
      {"accuracy>0.9x", "not \"x\""},
      {"size<50kb", "unknown size unit \"kb\""},
      {"size<50 GB", "unknown size unit"},
      {"size<-5kB", "negative"},
      {"size<1e3", "unknown size unit \"e3\""},
      {"size<nan", "not a"},
      {"latency<40", "needs a unit"},
      {"latency<40 min", "unknown latency unit \"min\""},
      {"accuracy>0.9,", "empty item"},
      {"accuracy>0.9,,size<5kB", "empty item"},
      {",size<5kB", "empty item"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      parse_constraints(c.text);
      ADD_FAILURE() << "parsed";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.words), std::string::npos) << e.what();
    }
  }
  try {
    parse_constraints("accuracy>0.9,latency<40");
    ADD_FAILURE() << "parsed";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("\"latency<40\""), std::string::npos) << e.what();
  }
}

TEST(Constraints, PassFail) {
  Measured m;
  m.accuracy = 222.0 / 223.0;  // 0.99552
  m.size_bytes = 12690;
  m.zipped_bytes = 9000;
  m.latency_ms = 3.5;
  auto pass = [&](const char* text) { return check(parse_constraint(text), m).pass; };
  EXPECT_TRUE(pass("accuracy>0.994"));
  EXPECT_TRUE(pass("accuracy>99.4%"));
  EXPECT_FALSE(pass("accuracy>0.996"));
  EXPECT_FALSE(pass("accuracy>=100%"));
  EXPECT_TRUE(pass("size<50kB"));
  EXPECT_FALSE(pass("size<12kB"));
  EXPECT_FALSE(pass("size<12690B"));  // strict
  EXPECT_TRUE(pass("size<=12690B"));
  EXPECT_FALSE(pass("size>12690"));
  EXPECT_TRUE(pass("size>=12690"));
  EXPECT_TRUE(pass("zipped_size<9.001kB"));
  EXPECT_FALSE(pass("zipped_size<8.3kB"));
  EXPECT_TRUE(pass("latency<40ms"));
  EXPECT_TRUE(pass("latency<3501us"));
  EXPECT_FALSE(pass("latency<3500us"));
  EXPECT_FALSE(pass("latency<0.003s"));
  EXPECT_TRUE(pass("latency>1ms"));  // a range: both ends

  auto rs = check(parse_constraints("accuracy>0.994,size<50kB,latency<40ms"), m);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_TRUE(all_pass(rs));
  EXPECT_DOUBLE_EQ(rs[1].value, 12690);
  rs = check(parse_constraints("accuracy>0.994,size<10kB"), m);
  EXPECT_FALSE(all_pass(rs));
  EXPECT_TRUE(rs[0].pass);
  EXPECT_FALSE(rs[1].pass);
  EXPECT_TRUE(all_pass({}));
}

TEST(Constraints, UnmeasuredFails) {
  Measured m;  // nothing measured
  m.accuracy = 1.0;
  const ConstraintResult r = check(parse_constraint("latency<40ms"), m);
  EXPECT_FALSE(r.measured);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(format_value(r.constraint, r.value), "not measured");
  EXPECT_TRUE(check(parse_constraint("accuracy>0.5"), m).pass);
}

TEST(Constraints, FormatsInTheUnitsWritten) {
  EXPECT_EQ(format_limit(parse_constraint("size<50kB")), "< 50 kB");
  EXPECT_EQ(format_limit(parse_constraint("accuracy >= 99.4 %")), ">= 99.4 %");
  EXPECT_EQ(format_value(parse_constraint("size<50kB"), 12690), "12.690 kB");
  EXPECT_EQ(format_value(parse_constraint("size<50000"), 12690), "12690 B");
  EXPECT_EQ(format_value(parse_constraint("accuracy>99.4%"), 222.0 / 223.0), "99.55 %");
  EXPECT_EQ(format_value(parse_constraint("accuracy>0.994"), 222.0 / 223.0), "0.9955");
  EXPECT_EQ(format_value(parse_constraint("latency<40ms"), 3.14159), "3.142 ms");
  EXPECT_EQ(format_value(parse_constraint("latency<400us"), 0.31416), "314.2 us");
}

TEST(Constraints, TableAndJson) {
  Measured m;
  m.accuracy = 0.99;
  m.size_bytes = 12690;
  m.latency_ms = 3.5;
  auto rs = check(parse_constraints("accuracy>0.994,size<50kB,latency<40ms"), m);
  const std::string t = constraints_table(rs);
  for (const char* w :
       {"constraint", "limit", "result", "status", "accuracy", "> 0.994", "0.9900", "FAIL",
        "< 50 kB", "12.690 kB", "pass", "< 40 ms", "3.500 ms", "FAILED: 1 of 3 not met"})
    EXPECT_NE(t.find(w), std::string::npos) << w << " not in\n" << t;
  const nlohmann::json j = constraints_json(rs);
  EXPECT_EQ(j["pass"], false);
  EXPECT_EQ(j["failed"], 1);
  ASSERT_EQ(j["results"].size(), 3u);
  EXPECT_EQ(j["results"][0]["constraint"], "accuracy>0.994");
  EXPECT_EQ(j["results"][0]["metric"], "accuracy");
  EXPECT_EQ(j["results"][0]["op"], ">");
  EXPECT_EQ(j["results"][0]["pass"], false);
  EXPECT_DOUBLE_EQ(j["results"][1]["limit"].get<double>(), 50000);
  EXPECT_EQ(j["results"][1]["unit"], "kB");
  EXPECT_DOUBLE_EQ(j["results"][1]["value"].get<double>(), 12690);

  Measured none;
  const nlohmann::json jn = constraints_json(check(parse_constraints("size<1kB"), none));
  EXPECT_TRUE(jn["results"][0]["value"].is_null());
  EXPECT_NE(constraints_table(check(parse_constraints("size<50kB"), m)).find("all met (1 of 1)"),
            std::string::npos);
}

}  // namespace
}  // namespace tkws
