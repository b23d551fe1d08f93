// Block-wise audio sources for streaming (stream_source.h).
#include "tinykws/audio/stream_source.h"

#include <sndfile.h>
#include <soxr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "tinykws/common/error.h"

namespace tkws {

StreamResampler::StreamResampler(int from_rate, int to_rate) {
  if (from_rate <= 0 || to_rate <= 0)
    throw std::invalid_argument("StreamResampler: rates must be > 0, got " +
                                std::to_string(from_rate) + " -> " + std::to_string(to_rate));
  ratio_ = static_cast<double>(to_rate) / from_rate;
  soxr_error_t err = nullptr;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  soxr_ = soxr_create(from_rate, to_rate, 1, &err, &io, &q, nullptr);
  if (err || !soxr_) throw std::runtime_error(std::string("libsoxr: ") + (err ? err : "create"));
}

StreamResampler::~StreamResampler() {
  if (soxr_) soxr_delete(static_cast<soxr_t>(soxr_));
}

void StreamResampler::process(const float* in, size_t n, std::vector<float>* out) {
  auto* s = static_cast<soxr_t>(soxr_);
  const bool flush = in == nullptr;
  size_t done_in = 0;
  for (int guard = 0; guard < 1 << 20; ++guard) {
    const size_t room = static_cast<size_t>(std::ceil((flush ? 0 : n - done_in) * ratio_)) + 256;
    const size_t at = out->size();
    out->resize(at + room);
    size_t idone = 0, odone = 0;
    const soxr_error_t err =
        soxr_process(s, flush ? nullptr : in + done_in, flush ? 0 : n - done_in, &idone,
                     out->data() + at, room, &odone);
    out->resize(at + odone);
    if (err) throw std::runtime_error(std::string("libsoxr: ") + err);
    done_in += idone;
    if (flush ? odone == 0 : (done_in == n && odone < room)) return;
  }
}

MonoQueue::MonoQueue(int from_rate, int to_rate) {
  if (from_rate != to_rate) rs_ = std::make_unique<StreamResampler>(from_rate, to_rate);
}

void MonoQueue::push_interleaved(const float* x, size_t frames, int channels) {
  if (head_ > 0 && head_ == q_.size()) q_.clear(), head_ = 0;
  std::vector<float>& dst = rs_ ? mono_ : q_;
  const size_t at = rs_ ? 0 : q_.size();
  dst.resize(at + frames);
  for (size_t i = 0; i < frames; ++i) {
    if (channels == 1) {
      dst[at + i] = x[i];
      continue;
    }
    double acc = 0.0;
    for (int c = 0; c < channels; ++c) acc += x[i * channels + c];
    dst[at + i] = static_cast<float>(acc / channels);
  }
  if (rs_) rs_->process(mono_.data(), frames, &q_);
}

void MonoQueue::finish() {
  if (finished_) return;
  finished_ = true;
  if (rs_) rs_->process(nullptr, 0, &q_);
}

size_t MonoQueue::pop(float* out, size_t max) {
  const size_t n = std::min(max, size());
  std::copy_n(q_.data() + head_, n, out);
  head_ += n;
  return n;
}

namespace {

constexpr size_t kBlockFrames = 4096;

class FileSource final : public SampleSource {
 public:
  FileSource(const std::string& path, int target_rate) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw InputError(path + ": file not found");
    if (std::filesystem::is_directory(path, ec))
      throw InputError(path + ": is a folder, not an audio file");
    file_ = sf_open(path.c_str(), SFM_READ, &info_);
    if (!file_)
      throw InputError(path + ": not a WAV/audio file (libsndfile: " + sf_strerror(nullptr) + ")");
    if (info_.samplerate <= 0 || info_.channels <= 0 || info_.frames <= 0) {
      sf_close(file_);
      throw InputError(path + ": holds no audio (rate " + std::to_string(info_.samplerate) + ", " +
                       std::to_string(info_.channels) + " channels, " +
                       std::to_string(info_.frames) + " frames)");
    }
    queue_ = std::make_unique<MonoQueue>(info_.samplerate, target_rate);
    block_.resize(kBlockFrames * static_cast<size_t>(info_.channels));
  }
  ~FileSource() override { sf_close(file_); }

  size_t read(float* out, size_t max) override {
    while (queue_->size() == 0 && !eof_) {
      const sf_count_t n = sf_readf_float(file_, block_.data(), kBlockFrames);
      if (n <= 0) {
        if (sf_error(file_) != SF_ERR_NO_ERROR)
          throw InputError(path_ + ": read error (libsndfile: " + sf_strerror(file_) + ")");
        eof_ = true;
        queue_->finish();
        break;
      }
      for (sf_count_t i = 0; i < n * info_.channels; ++i)
        if (!std::isfinite(block_[static_cast<size_t>(i)]))
          throw InputError(path_ + ": holds non-finite samples (NaN or Inf)");
      queue_->push_interleaved(block_.data(), static_cast<size_t>(n), info_.channels);
    }
    return queue_->pop(out, max);
  }
  int source_rate() const override { return info_.samplerate; }
  std::string describe() const override {
    return path_ + " (" + std::to_string(info_.samplerate) + " Hz, " +
           std::to_string(info_.channels) + " channel" + (info_.channels > 1 ? "s" : "") + ", " +
           std::to_string(info_.frames / info_.samplerate) + "." +
           std::to_string(info_.frames % info_.samplerate * 10 / info_.samplerate) + " s)";
  }

 private:
  std::string path_;
  SF_INFO info_{};
  SNDFILE* file_ = nullptr;
  std::unique_ptr<MonoQueue> queue_;
  std::vector<float> block_;
  bool eof_ = false;
};

class RawS16Source final : public SampleSource {
 public:
  RawS16Source(int fd, std::string name, int rate, int target_rate,
               const volatile std::sig_atomic_t* stop)
      : fd_(fd), name_(std::move(name)), rate_(rate), stop_(stop), queue_(rate, target_rate) {}

  size_t read(float* out, size_t max) override {
    while (queue_.size() == 0 && !eof_) {
      const ssize_t n = ::read(fd_, bytes_ + carry_, sizeof bytes_ - carry_);
      if (n < 0) {
        if (errno == EINTR) {
          if (stop_ && *stop_) return 0;
          continue;
        }
        throw InputError(name_ + ": read error (" + std::strerror(errno) + ")");
      }
      if (n == 0) {
        eof_ = true;
        if (carry_ != 0)
          throw InputError(name_ + ": the stream ends inside a sample (" +
                           std::to_string(total_ + carry_) +
                           " bytes is not a whole number of 16-bit samples)");
        queue_.finish();
        break;
      }
      const size_t have = carry_ + static_cast<size_t>(n);
      const size_t samples = have / 2;
      for (size_t i = 0; i < samples; ++i) {
        const auto v = static_cast<int16_t>(bytes_[2 * i] | bytes_[2 * i + 1] << 8);
        block_[i] = static_cast<float>(v) / 32768.0f;
      }
      total_ += samples * 2;
      carry_ = have % 2;
      if (carry_) bytes_[0] = bytes_[have - 1];
      queue_.push_interleaved(block_, samples, 1);
    }
    return queue_.pop(out, max);
  }
  int source_rate() const override { return rate_; }
  std::string describe() const override {
    return name_ + " (raw s16le mono, " + std::to_string(rate_) + " Hz)";
  }

 private:
  int fd_;
  std::string name_;
  int rate_;
  const volatile std::sig_atomic_t* stop_;
  MonoQueue queue_;
  uint8_t bytes_[2 * kBlockFrames];
  float block_[kBlockFrames];
  size_t carry_ = 0, total_ = 0;
  bool eof_ = false;
};

}  // namespace

std::unique_ptr<SampleSource> open_audio_file(const std::string& path, int target_rate) {
  return std::make_unique<FileSource>(path, target_rate);
}

std::unique_ptr<SampleSource> open_raw_s16(int fd, const std::string& name, int rate,
                                           int target_rate,
                                           const volatile std::sig_atomic_t* stop) {
  if (rate < 1000 || rate > 384000)
    throw InputError(name + ": --rate " + std::to_string(rate) + " must be in [1000, 384000] Hz");
  return std::make_unique<RawS16Source>(fd, name, rate, target_rate, stop);
}

}  // namespace tkws
