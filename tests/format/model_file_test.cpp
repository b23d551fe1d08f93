// Reading and writing .tkws files (format/model_file.cpp): atomic overwrite with no temporary
// file left behind, and errors that name the path.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "tinykws/common/error.h"
#include "tinykws/format/tkws.h"
#include "tkws_test_util.h"

namespace tkws {
namespace {

using namespace tkws_testing;  // all_dtypes_model, expect_models_equal

TEST(Tkws, WriteAndReadFile) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / "tkws_write_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "model.tkws").string();
  const Model m = all_dtypes_model();
  write_model(path, m);
  write_model(path, m);  // overwrite in place
  expect_models_equal(m, read_model(path));
  EXPECT_EQ(fs::file_size(path), serialize_model(m).size());
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1) << "temporary file left behind";

  try {
    read_model((dir / "missing.tkws").string());
    FAIL() << "no error for a missing file";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.tkws: cannot open"), std::string::npos);
  }
  std::ofstream(dir / "wav.tkws", std::ios::binary) << "RIFF....WAVEfmt ";
  try {
    read_model((dir / "wav.tkws").string());
    FAIL() << "no error for a WAV file";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("wav.tkws: bad magic"), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_model((dir / "no_such_dir" / "m.tkws").string(), m), std::runtime_error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tkws
