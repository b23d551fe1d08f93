// A small synthetic keyword dataset for tests: "up" = rising chirp, "down" = falling chirp,
// with random onset, duration, level and background noise; Speech Commands file naming
// (<speaker>_nohash_<n>.wav) and a validation_list.txt. Deterministic for a given seed.
#pragma once
#include <unistd.h>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tinykws/audio/wav.h"

namespace tkws::testing {

inline std::vector<float> synth_word(bool rising, std::mt19937_64& rng, int n = 16000,
                                     int rate = 16000) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<float> x(n, 0.0f);
  int len = static_cast<int>(n * (0.35 + 0.3 * u(rng)));
  int start = static_cast<int>((n - len) * u(rng));
  double f0 = 250 + 150 * u(rng), f1 = 1200 + 600 * u(rng);
  if (!rising) std::swap(f0, f1);
  double amp = 0.1 + 0.4 * u(rng), phase = 0.0;
  for (int i = 0; i < len; ++i) {
    double t = static_cast<double>(i) / len;
    double f = f0 + (f1 - f0) * t;
    phase += 2 * M_PI * f / rate;
    double env = std::sin(M_PI * t);
    x[start + i] = static_cast<float>(amp * env * (std::sin(phase) + 0.3 * std::sin(2 * phase)));
  }
  double noise = 0.003 + 0.01 * u(rng);
  for (auto& v : x) v += static_cast<float>(noise * g(rng));
  return x;
}

// Writes root/{up,down}/spk<k>_nohash_<j>.wav; speakers [0, n_val_speakers) are listed in
// validation_list.txt. Returns root.
inline std::string make_synth_dataset(const std::string& root, int speakers = 12,
                                      int clips_per_speaker = 4, int n_val_speakers = 3,
                                      uint64_t seed = 1) {
  namespace fs = std::filesystem;
  fs::remove_all(root);
  std::mt19937_64 rng(seed);
  fs::create_directories(fs::path(root) / "up");
  fs::create_directories(fs::path(root) / "down");
  std::ofstream list(fs::path(root) / "validation_list.txt");
  for (const char* label : {"down", "up"}) {
    for (int s = 0; s < speakers; ++s) {
      for (int j = 0; j < clips_per_speaker; ++j) {
        char name[64];
        std::snprintf(name, sizeof name, "%08x_nohash_%d.wav", 0x1000 + s * 7919, j);
        std::string rel = std::string(label) + "/" + name;
        write_wav_pcm16((fs::path(root) / rel).string(),
                        synth_word(std::string(label) == "up", rng), 16000);
        if (s < n_val_speakers) list << rel << "\n";
      }
    }
  }
  return root;
}

inline std::string temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("tinykws_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace tkws::testing
