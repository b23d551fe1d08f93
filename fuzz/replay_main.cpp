// Replays inputs through a fuzz target without libFuzzer: the regression tests of the normal
// (gcc) build and of scripts/sanitize.sh. Usage: replay_<target> DIR_OR_FILE...; every file is
// passed to LLVMFuzzerTestOneInput once. Missing arguments are skipped (an empty regressions
// folder is fine). Exit 0 when every input ran (a crash or sanitizer report ends the process).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  int count = 0;
  auto run = [&](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", p.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    ++count;
  };
  for (int i = 1; i < argc; ++i) {
    fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      std::vector<fs::path> files;
      for (auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.')
          files.push_back(e.path());  // not .keep
      std::sort(files.begin(), files.end());
      for (auto& f : files) run(f);
    } else if (fs::is_regular_file(p)) {
      run(p);
    }
  }
  std::printf("replay: %d inputs ran\n", count);
  return 0;
}
