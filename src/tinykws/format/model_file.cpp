// Reading and writing .tkws files (tkws.h read_model, write_model): whole-file reads with a
// size limit, and atomic writes (a temporary file next to the target, flushed, renamed over
// it). Standard library plus POSIX fsync when available, so format/ builds for a small board.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "tinykws/common/error.h"
#include "tinykws/format/tkws.h"

#if __has_include(<unistd.h>) && __has_include(<fcntl.h>) && __has_include(<sys/stat.h>)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define TKWS_HAVE_POSIX 1
#endif

namespace tkws {

Model read_model(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> buf;
  constexpr size_t kMaxFile = size_t{1} << 30;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
    buf.insert(buf.end(), chunk, chunk + n);
    if (buf.size() > kMaxFile) break;
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) throw InputError(path + ": read error");
  if (buf.size() > kMaxFile) throw InputError(path + ": larger than 1 GiB, not a .tkws model");
  return parse_model(buf.data(), buf.size(), path);
}

void write_model(const std::string& path, const Model& m) {
  const std::vector<uint8_t> bytes = serialize_model(m);
  auto io_error = [&](const std::string& what) {
    return std::runtime_error(path + ": " + what + " (" + std::strerror(errno) + ")");
  };
#ifdef TKWS_HAVE_POSIX
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw io_error("cannot create a temporary file next to it");
  size_t done = 0;
  bool ok = true;
  while (ok && done < bytes.size()) {
    const ssize_t k = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (k < 0 && errno == EINTR) continue;
    ok = k > 0;
    if (ok) done += static_cast<size_t>(k);
  }
  ok = ok && ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const auto e = io_error(ok ? "cannot rename the temporary file over it" : "write failed");
    ::unlink(tmp.c_str());
    throw e;
  }
  // Make the rename itself durable.
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dfd = ::open(dir.c_str(), O_RDONLY);
  if (dfd >= 0) ::fsync(dfd), ::close(dfd);
#else
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw io_error("cannot create a temporary file next to it");
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw io_error("write failed");
  }
#endif
}

}  // namespace tkws
