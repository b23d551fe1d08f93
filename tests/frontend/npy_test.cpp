// tinykws/common/npy.h: round trips, files written by NumPy, and errors on bad files.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tinykws/common/error.h"
#include "tinykws/common/npy.h"

namespace tkws {
namespace {

namespace fs = std::filesystem;

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / (std::string("tkws_npy_") + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  // Expects read_npy<T>(p) to throw InputError whose message names p and contains `what`.
  template <typename T>
  void expect_error(const std::string& p, const std::string& what) {
    try {
      read_npy<T>(p);
      ADD_FAILURE() << "no error for " << p;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(p), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  }

  fs::path dir_;
};

TEST_F(NpyTest, RoundTripFloat32) {
  std::vector<float> a(12);
  for (size_t i = 0; i < a.size(); ++i) a[i] = 0.25f * i - 1.0f;
  write_npy(path("a.npy"), a.data(), {3, 4});
  const auto r = read_npy<float>(path("a.npy"));
  EXPECT_EQ(r.shape, (std::vector<size_t>{3, 4}));
  EXPECT_EQ(r.data, a);
  // v1.0 header padded so the data starts at a multiple of 64 bytes.
  EXPECT_EQ((fs::file_size(path("a.npy")) - 12 * sizeof(float)) % 64, 0u);
  // Nothing else left in the folder (the temporary file was renamed).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(NpyTest, RoundTripInt16AndInt32AndScalar) {
  const std::vector<int16_t> s = {-32768, -1, 0, 1, 32767, 7, 9};
  write_npy(path("s.npy"), s, {7});
  const auto rs = read_npy<int16_t>(path("s.npy"));
  EXPECT_EQ(rs.shape, (std::vector<size_t>{7}));
  EXPECT_EQ(rs.data, s);

  std::vector<int32_t> i(12);
  for (size_t k = 0; k < i.size(); ++k) i[k] = static_cast<int32_t>(k * 100000) - 600000;
  write_npy(path("i.npy"), i.data(), {2, 3, 2});
  const auto ri = read_npy<int32_t>(path("i.npy"));
  EXPECT_EQ(ri.shape, (std::vector<size_t>{2, 3, 2}));
  EXPECT_EQ(ri.data, i);

  const float one = 3.5f;
  write_npy(path("scalar.npy"), &one, {});
  const auto r0 = read_npy<float>(path("scalar.npy"));
  EXPECT_TRUE(r0.shape.empty());
  ASSERT_EQ(r0.size(), 1u);
  EXPECT_EQ(r0.data[0], 3.5f);

  write_npy(path("empty.npy"), static_cast<const float*>(nullptr), {0, 5});
  const auto re = read_npy<float>(path("empty.npy"));
  EXPECT_EQ(re.shape, (std::vector<size_t>{0, 5}));
  EXPECT_EQ(re.size(), 0u);
}

TEST_F(NpyTest, OverwritesAtomically) {
  const std::vector<float> a = {1, 2, 3}, b = {4, 5};
  write_npy(path("x.npy"), a, {3});
  write_npy(path("x.npy"), b, {2});
  EXPECT_EQ(read_npy<float>(path("x.npy")).data, b);
}

TEST_F(NpyTest, ReadsFilesWrittenByNumpy) {
  const std::string golden = std::string(TINYKWS_SOURCE_DIR) + "/tests/golden/";
  const auto clip = read_npy<int16_t>(golden + "frontend_clip.npy");
  EXPECT_EQ(clip.shape, (std::vector<size_t>{16000}));
  const auto mfcc = read_npy<float>(golden + "frontend_course_mfcc.npy");
  EXPECT_EQ(mfcc.shape, (std::vector<size_t>{49, 10}));
}

TEST_F(NpyTest, TruncatedDataIsAnInputError) {
  const std::vector<float> a(100, 1.0f);
  write_npy(path("t.npy"), a, {10, 10});
  fs::resize_file(path("t.npy"), fs::file_size(path("t.npy")) - 3);
  expect_error<float>(path("t.npy"), "truncated npy data");
}

TEST_F(NpyTest, TruncatedHeaderIsAnInputError) {
  const std::vector<float> a(4, 1.0f);
  write_npy(path("h.npy"), a, {4});
  fs::resize_file(path("h.npy"), 40);
  expect_error<float>(path("h.npy"), "truncated npy header");
  fs::resize_file(path("h.npy"), 5);
  expect_error<float>(path("h.npy"), "too short");
}

TEST_F(NpyTest, WrongDtypeIsAnInputError) {
  const std::vector<int16_t> s = {1, 2, 3};
  write_npy(path("s.npy"), s, {3});
  expect_error<float>(path("s.npy"), "expected dtype '<f4', found '<i2'");
  expect_error<int32_t>(path("s.npy"), "expected dtype '<i4', found '<i2'");
}

TEST_F(NpyTest, BadFilesAreInputErrors) {
  {
    std::ofstream f(path("bad.npy"), std::ios::binary);
    f << "this is not an npy file at all";
  }
  expect_error<float>(path("bad.npy"), "bad magic");
  expect_error<float>(path("missing.npy"), "cannot open");

  // Trailing bytes after the data.
  const std::vector<float> a = {1, 2};
  write_npy(path("long.npy"), a, {2});
  {
    std::ofstream f(path("long.npy"), std::ios::binary | std::ios::app);
    f << "xx";
  }
  expect_error<float>(path("long.npy"), "bytes after the data");

  // Fortran order and a mangled shape.
  const auto write_raw = [&](const char* name, const std::string& dict) {
    std::string header = dict;
    header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
    header.push_back('\n');
    std::ofstream f(path(name), std::ios::binary);
    f.write("\x93NUMPY\x01\x00", 8);
    f.put(static_cast<char>(header.size() & 0xff));
    f.put(static_cast<char>(header.size() >> 8));
    f << header << std::string(8, '\0');
  };
  write_raw("f.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }");
  expect_error<float>(path("f.npy"), "fortran_order");
  write_raw("sh.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }");
  expect_error<float>(path("sh.npy"), "bad npy shape");
  write_raw("ok.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }");
  EXPECT_EQ(read_npy<float>(path("ok.npy")).size(), 2u);
}

TEST_F(NpyTest, WriteToMissingFolderThrows) {
  const float v = 1.0f;
  EXPECT_THROW(write_npy(path("no/such/dir/x.npy"), &v, {1}), std::runtime_error);
}

}  // namespace
}  // namespace tkws
