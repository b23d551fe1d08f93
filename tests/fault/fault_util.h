// Process helpers of the fault and cluster tests: start `tinykws` (or any program) as a child
// in its own process group with extra environment variables, SIGKILL it (and its workers),
// wait with a time limit, and compare files byte for byte.
#pragma once
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tkws::testing {

struct Child {
  pid_t pid = -1;  // also the process group id (setpgid(0, 0) in the child)
  int status = 0;  // waitpid status once it ended
  bool ended = false;
  bool killed() const { return ended && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }
  int exit_code() const { return ended && WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

// Starts argv[0] (a path) with argv, stdout and stderr appended to `log`, `env` added to the
// environment (NAME, value), in a new process group.
inline Child spawn_child(const std::vector<std::string>& argv, const std::string& log,
                         const std::vector<std::pair<std::string, std::string>>& env = {}) {
  Child c;
  c.pid = ::fork();
  if (c.pid == 0) {
    ::setpgid(0, 0);
    for (auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    FILE* f = std::fopen(log.c_str(), "a");
    if (f) {
      ::dup2(fileno(f), 1);
      ::dup2(fileno(f), 2);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
  if (c.pid > 0) ::setpgid(c.pid, c.pid);  // either side may win the race; both set it
  return c;
}

// Waits up to `limit` for the child; false (child left running) on timeout.
inline bool wait_child(Child& c, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!c.ended) {
    pid_t r = ::waitpid(c.pid, &c.status, WNOHANG);
    if (r == c.pid) {
      c.ended = true;
      break;
    }
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// SIGKILL to the child's whole process group (a search and its training workers), then reaps
// the child.
inline void kill_group(Child& c) {
  if (c.ended) return;
  ::kill(-c.pid, SIGKILL);
  ::waitpid(c.pid, &c.status, 0);
  c.ended = true;
}

inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The tinykws binary of this build and its environment for children. Under ASan (scripts/
// sanitize.sh) a preloaded library comes before the ASan runtime, which ASan must be told.
inline std::string tinykws_binary() {
  return std::string(TINYKWS_BINARY_DIR) + "/tinykws";
}
inline std::vector<std::pair<std::string, std::string>> preload_env(const std::string& lib) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  return {{"LD_PRELOAD", lib},
          {"ASAN_OPTIONS",
           std::string(asan ? asan : "") + (asan ? ":" : "") + "verify_asan_link_order=0"}};
}

}  // namespace tkws::testing
