// Small host-side file helpers (header-only; not for the runtime).
#pragma once
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tkws {

// Writes `data` to `path` atomically: a temporary file in the same folder, flushed to disk,
// then renamed over `path`. A reader sees the old file or the new one, never a partial one.
// Throws std::runtime_error("<path>: <what failed> (<system reason>)"), e.g. "... write failed
// (No space left on device)"; the temporary file is removed and an old `path` stays intact.
inline void write_file_atomic(const std::string& path, const void* data, size_t size) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  auto fail = [&](const char* what, int err) {
    std::remove(tmp.c_str());
    throw std::runtime_error(path + ": " + what + " (" + std::strerror(err) + ")");
  };
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail("cannot create a temporary file next to it", errno);
  int err = 0;
  if (std::fwrite(data, 1, size, f) != size || std::fflush(f) != 0 || ::fsync(fileno(f)) != 0)
    err = errno;
  if (std::fclose(f) != 0 && !err) err = errno;
  if (err) fail("write failed", err);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    fail("cannot rename the temporary file over it", errno);
}
inline void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace tkws
