// Shared by the tests that run the tinykws binary (cli/, search/): run it, capture what it
// prints, and a tiny config that trains in about a second.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace tkws::testing {

struct CliResult {
  int code;         // exit code; -1 if the process did not exit normally
  std::string out;  // stdout and stderr, interleaved
};

// Runs a shell command line; stderr is captured with stdout.
inline CliResult run_shell(const std::string& command) {
  std::string cmd = command + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Runs `TINYKWS_BINARY_DIR/tinykws ARGS` through the shell.
inline CliResult run_tinykws(const std::string& args) {
  return run_shell(std::string(TINYKWS_BINARY_DIR) + "/tinykws " + args);
}

// A 2-epoch, 6-filter CNN on a 20-band / 8-MFCC front end: trains in about a second.
inline const char* kTinyBaseConfig = R"(
[frontend]
frame_length = 640
frame_step = 320
fft_length = 640
num_mel_bins = 20
num_mfcc = 8
[model]
layers = [ { type = "conv", filters = 6, kernel = 3, stride = 2 }, { type = "bn" },
           { type = "relu" }, { type = "gap" }, { type = "dense" }, { type = "softmax" } ]
[train]
epochs = 2
batch_size = 16
)";

}  // namespace tkws::testing

#define EXPECT_CONTAINS(hay, needle) \
  EXPECT_NE((hay).find(needle), std::string::npos) << "'" << (needle) << "' not in:\n" << (hay)
