// WAV reading (libsndfile), mono mix-down, resampling (libsoxr), length fitting, PCM16 writing.
#include "tinykws/audio/wav.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "tinykws/common/error.h"

namespace tkws {
namespace {

namespace fs = std::filesystem;

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw InputError(path + ": " + reason);
}

// Bytes per frame of the uncompressed WAV sub-formats, or 0 when the data chunk's size does not
// map to a frame count by a plain division (ADPCM, GSM, ...).
int pcm_bytes_per_frame(const SF_INFO& info) {
  int bytes = 0;
  switch (info.format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW:
      bytes = 1;
      break;
    case SF_FORMAT_PCM_16:
      bytes = 2;
      break;
    case SF_FORMAT_PCM_24:
      bytes = 3;
      break;
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT:
      bytes = 4;
      break;
    case SF_FORMAT_DOUBLE:
      bytes = 8;
      break;
    default:
      return 0;
  }
  return bytes * info.channels;
}

uint32_t le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// Size in bytes that a RIFF/WAVE file's header declares for its "data" chunk, or nullopt when
// the file is not a plain RIFF WAVE or the size is a streaming placeholder (0 or 0xFFFFFFFF).
// libsndfile clamps a too-large data size to what the file holds and reports the clamped frame
// count (it only notes "should be" in its log), so a cut-off file would otherwise pass silently.
std::optional<uint64_t> riff_declared_data_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char hdr[12];
  if (!in.read(reinterpret_cast<char*>(hdr), sizeof hdr)) return std::nullopt;
  if (std::string(reinterpret_cast<char*>(hdr), 4) != "RIFF" ||
      std::string(reinterpret_cast<char*>(hdr) + 8, 4) != "WAVE") {
    return std::nullopt;
  }
  // Walk the chunk list: 4-byte id, 4-byte little-endian size, payload padded to even length.
  for (int guard = 0; guard < 1024; ++guard) {
    unsigned char ch[8];
    if (!in.read(reinterpret_cast<char*>(ch), sizeof ch)) return std::nullopt;
    const uint32_t size = le32(ch + 4);
    if (std::string(reinterpret_cast<char*>(ch), 4) == "data") {
      if (size == 0 || size == 0xFFFFFFFFu) return std::nullopt;
      return size;
    }
    in.seekg(std::streamoff(size) + (size & 1u), std::ios::cur);
    if (!in) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::vector<float> read_audio(const std::string& path, int target_rate, AudioInfo* info) {
  if (target_rate <= 0) {
    throw std::invalid_argument("read_audio: target_rate must be > 0, got " +
                                std::to_string(target_rate));
  }
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) fail(path, "file not found");
  if (fs::is_directory(st)) fail(path, "is a folder, not an audio file");

  SF_INFO sfi{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &sfi));
  if (!file) {
    fail(path, std::string("not a WAV/audio file (libsndfile: ") + sf_strerror(nullptr) + ")");
  }
  // Outside this range a header is damaged or hostile: a 4 kB file "at 1 Hz" resampled to
  // 16 kHz took minutes in libsoxr (found by fuzz/wav_fuzz.cpp).
  if (sfi.samplerate < kMinSampleRate || sfi.samplerate > kMaxSampleRate)
    fail(path, "sample rate " + std::to_string(sfi.samplerate) + " Hz is outside " +
                   std::to_string(kMinSampleRate) + "-" + std::to_string(kMaxSampleRate) + " Hz");
  if (sfi.channels <= 0) fail(path, "channel count is " + std::to_string(sfi.channels));
  if (sfi.frames <= 0) fail(path, "holds no audio (0 frames)");

  // Truncation: the header's data size against what libsndfile found in the file.
  const int major = sfi.format & SF_FORMAT_TYPEMASK;
  const int bpf = pcm_bytes_per_frame(sfi);
  if ((major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX) && bpf > 0) {
    if (auto bytes = riff_declared_data_bytes(path)) {
      const long long declared = static_cast<long long>(*bytes / uint64_t(bpf));
      if (declared > sfi.frames) {
        fail(path, "truncated: header says " + std::to_string(declared) + " frames, file holds " +
                       std::to_string(sfi.frames));
      }
    }
  }

  // Interleaved [frames, channels]; libsndfile's default float normalisation maps int16 s to
  // s / 32768 (REFERENCE.md §2, as tf decode_wav); float files are passed through unscaled.
  const long long frames = sfi.frames;
  const int channels = sfi.channels;
  std::vector<float> interleaved(static_cast<size_t>(frames) * size_t(channels));
  sf_count_t got = 0;
  while (got < frames) {
    const sf_count_t n =
        sf_readf_float(file.get(), interleaved.data() + got * channels, frames - got);
    if (n <= 0) break;
    got += n;
  }
  if (got < frames) {
    fail(path, "truncated: header says " + std::to_string(frames) + " frames, file holds " +
                   std::to_string(got));
  }
  if (sf_error(file.get()) != SF_ERR_NO_ERROR) {
    fail(path, std::string("read error (libsndfile: ") + sf_strerror(file.get()) + ")");
  }
  for (float v : interleaved) {
    if (!std::isfinite(v)) fail(path, "holds non-finite samples (NaN or Inf)");
  }

  // Mono mix-down: mean of the channels, [frames].
  std::vector<float> mono;
  if (channels == 1) {
    mono = std::move(interleaved);
  } else {
    mono.resize(static_cast<size_t>(frames));
    for (long long i = 0; i < frames; ++i) {
      double acc = 0.0;
      for (int c = 0; c < channels; ++c) acc += interleaved[size_t(i) * channels + c];
      mono[size_t(i)] = static_cast<float>(acc / channels);
    }
  }

  if (info) {
    info->sample_rate = sfi.samplerate;
    info->channels = channels;
    info->frames = frames;
  }
  if (sfi.samplerate != target_rate) return resample(mono, sfi.samplerate, target_rate);
  return mono;
}

void fit_length(std::vector<float>& samples, int length) {
  if (length < 0) throw std::invalid_argument("fit_length: negative length");
  samples.resize(static_cast<size_t>(length), 0.0f);  // cuts the end or zero-pads at the end
}

std::vector<float> resample(const std::vector<float>& in, int from_rate, int to_rate) {
  if (from_rate <= 0 || to_rate <= 0) {
    throw std::invalid_argument("resample: rates must be > 0, got " + std::to_string(from_rate) +
                                " -> " + std::to_string(to_rate));
  }
  if (from_rate == to_rate || in.empty()) return in;
  // Output length round(n * to / from), in integers so it is exact for any n.
  const long long n = static_cast<long long>(in.size());
  const long long out_len = (n * to_rate + from_rate / 2) / from_rate;
  std::vector<float> out(static_cast<size_t>(out_len) + 16);
  size_t idone = 0, odone = 0;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_error_t err = soxr_oneshot(from_rate, to_rate, 1, in.data(), in.size(), &idone,
                                        out.data(), out.size(), &odone, &io, &q, nullptr);
  if (err) throw std::runtime_error(std::string("resample: libsoxr failed: ") + err);
  out.resize(odone);
  fit_length(out, static_cast<int>(out_len));  // soxr already gives this length; make it a rule
  return out;
}

void write_wav_pcm16(const std::string& path, const std::vector<float>& samples, int rate) {
  if (rate <= 0) throw std::invalid_argument("write_wav_pcm16: rate must be > 0");
  // x -> round(x * 32768), clipped to int16: the exact inverse of read_audio's s / 32768, so
  // k / 32768 round-trips bit-exactly (libsndfile's own float->int16 scales by 32767).
  std::vector<short> pcm(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const float x = samples[i];
    if (std::isnan(x))
      throw std::invalid_argument("write_wav_pcm16: NaN sample at " + std::to_string(i));
    const double v = std::nearbyint(static_cast<double>(x) * 32768.0);
    pcm[i] = static_cast<short>(std::clamp(v, -32768.0, 32767.0));
  }
  SF_INFO sfi{};
  sfi.samplerate = rate;
  sfi.channels = 1;
  sfi.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SndfilePtr file(sf_open(path.c_str(), SFM_WRITE, &sfi));
  if (!file) {
    throw std::runtime_error(path + ": cannot write WAV (libsndfile: " + sf_strerror(nullptr) +
                             ")");
  }
  const sf_count_t n = static_cast<sf_count_t>(pcm.size());
  if (sf_write_short(file.get(), pcm.data(), n) != n) {
    throw std::runtime_error(path + ": short write (libsndfile: " + sf_strerror(file.get()) + ")");
  }
  if (sf_close(file.release()) != 0) throw std::runtime_error(path + ": error closing WAV");
}

}  // namespace tkws
