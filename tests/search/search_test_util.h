// Shared pieces of the search tests (the tiny base config is in common/cli_util.h).
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include "../common/cli_util.h"
#include "../common/synth_data.h"

namespace tkws::testing {

inline std::string write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
  return path;
}

}  // namespace tkws::testing
