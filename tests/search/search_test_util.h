// Shared pieces of the search tests: a tiny base config and a temp folder with files in it.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include "../common/synth_data.h"

namespace tkws::testing {

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

inline std::string write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
  return path;
}

}  // namespace tkws::testing
