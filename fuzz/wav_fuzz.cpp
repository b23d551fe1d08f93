// Fuzz target: the audio reader (audio/wav.h read_audio) on any bytes. read_audio takes a path
// (libsndfile opens it, and the RIFF data size is checked from the file), so each input is
// written to one file in /dev/shm (or TMPDIR) first. Inputs are read at 16 kHz, so files at
// other rates go through the libsoxr resampler too.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_util.h"
#include "tinykws/audio/wav.h"
#include "tinykws/common/error.h"

namespace {

std::string input_path() {
  const char* dir = std::getenv("TMPDIR");
  std::string d = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (dir ? dir : "/tmp");
  return d + "/tinykws_fuzz_wav_" + std::to_string(getpid()) + ".wav";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = input_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  try {
    tkws::AudioInfo info;
    std::vector<float> x = tkws::read_audio(path, 16000, &info);
    tkws::fit_length(x, 16000);
  } catch (const tkws::InputError&) {
  }
  std::remove(path.c_str());
  return 0;
}
