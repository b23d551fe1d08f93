// The shared TOML reader (config/toml_reader.h): the message shape "<file>: <table>.<key>
// <problem>" (no table prefix at the top level), typed reads, and leftover keys.
#include "tinykws/config/toml_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "tinykws/common/error.h"

namespace tkws {
namespace {

// The InputError message of f() ("" if it does not throw).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(TomlReader, SyntaxErrorsNameFileLineAndColumn) {
  EXPECT_EQ(error_of([] { parse_toml("a = 1\nb = = 2\n", "x.toml"); }).rfind("x.toml:2:", 0), 0u);
  EXPECT_NE(error_of([] { parse_toml("a = 1\nb = = 2\n", "x.toml"); }).find("TOML syntax error"),
            std::string::npos);
}

TEST(TomlReader, MessagesNameFileTableAndKey) {
  const toml::table t =
      parse_toml("n = \"big\"\nflag = \"yes\"\nkernel = [1, 2, 3]\nextra = 1\n", "x.toml");
  TableReader nested(t, "x.toml", "train");
  int n = 7;
  EXPECT_EQ(error_of([&] { nested.read("n", n); }), "x.toml: train.n must be an integer");
  EXPECT_EQ(n, 7);
  TableReader top(t, "x.toml", "");
  bool flag = false;
  EXPECT_EQ(error_of([&] { top.read("flag", flag); }), "x.toml: flag must be true or false");
  int h = 0, w = 0;
  EXPECT_EQ(error_of([&] { top.read_pair("kernel", h, w); }),
            "x.toml: kernel must be an integer or an array [height, width] of two integers");
  EXPECT_EQ(error_of([&] { top.fail("", "something is wrong"); }), "x.toml: something is wrong");
  EXPECT_EQ(error_of([&] { nested.fail("", "is missing"); }), "x.toml: train is missing");
}

TEST(TomlReader, AbsentKeysKeepDefaultsAndLeftoversAreReported) {
  const toml::table t = parse_toml("rate = 0.5\nmode = \"b\"\nepochz = 3\n", "x.toml");
  TableReader r(t, "x.toml", "train");
  double rate = 0;
  int epochs = 30;
  enum class M { kA, kB } mode = M::kA;
  r.read("rate", rate);
  r.read("epochs", epochs);
  r.read_enum("mode", mode, std::map<std::string, M>{{"a", M::kA}, {"b", M::kB}});
  EXPECT_EQ(rate, 0.5);
  EXPECT_EQ(epochs, 30);
  EXPECT_EQ(mode, M::kB);
  EXPECT_EQ(error_of([&] { r.finish(); }), "x.toml: train.epochz is not a known setting");
}

}  // namespace
}  // namespace tkws
