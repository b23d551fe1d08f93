// Where the tests find the real Speech Commands data: $TINYKWS_DATA (one folder or several
// separated by ':', as the CLI reads it), else the ../shared/data folders beside the repository.
// Tests on real data skip with a message when these come back empty.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace tkws::testing {

// The folders of $TINYKWS_DATA that exist, else ../shared/data/speech_commands_{updown,others}
// that exist.
inline std::vector<std::string> real_data_dirs() {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  std::error_code ec;
  if (const char* env = std::getenv("TINYKWS_DATA"); env && *env) {
    const std::string list = env;
    for (size_t start = 0; start <= list.size();) {
      const size_t end = std::min(list.find(':', start), list.size());
      const std::string d = list.substr(start, end - start);
      if (!d.empty() && fs::is_directory(d, ec)) dirs.push_back(d);
      start = end + 1;
    }
    return dirs;
  }
  const fs::path shared = fs::path(TINYKWS_SOURCE_DIR) / ".." / "shared" / "data";
  for (const char* name : {"speech_commands_updown", "speech_commands_others"})
    if (fs::is_directory(shared / name, ec))
      dirs.push_back((shared / name).lexically_normal().string());
  return dirs;
}

// The first real-data folder holding both up/ and down/ (or holding speech_commands_updown/
// that does), else empty.
inline std::string updown_data_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& d : real_data_dirs())
    for (const fs::path& c : {fs::path(d), fs::path(d) / "speech_commands_updown"})
      if (fs::is_directory(c / "up", ec) && fs::is_directory(c / "down", ec))
        return c.lexically_normal().string();
  return {};
}

}  // namespace tkws::testing
