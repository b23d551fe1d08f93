// Shared pieces of the search tests (the tiny base config is in common/cli_util.h).
#pragma once
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "../common/cli_util.h"
#include "../common/synth_data.h"
#include "tinykws/search/store.h"

namespace tkws::testing {

inline std::string write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
  return path;
}

// Every row of a results file (results.sqlite or a shard's), by trial id.
inline std::map<std::string, search::TrialRecord> rows_of(const std::string& db_path) {
  std::map<std::string, search::TrialRecord> out;
  search::ResultStore db(db_path, true);
  for (auto& r : db.all()) out[r.id] = r;
  return out;
}

}  // namespace tkws::testing
