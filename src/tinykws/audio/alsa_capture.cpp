// ALSA capture (alsa_capture.h). Blocking snd_pcm_readi of S16_LE interleaved frames; an
// overrun (-EPIPE) is recovered with snd_pcm_recover and reported once on stderr.
#include "tinykws/audio/alsa_capture.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tinykws/common/error.h"

#ifdef TINYKWS_HAVE_ALSA
#include <alsa/asoundlib.h>
#endif

namespace tkws {

#ifdef TINYKWS_HAVE_ALSA

namespace {

// ALSA prints its own messages to stderr ("ALSA lib pcm.c:2666: Unknown PCM ..."); the errors
// are reported with context by the callers instead.
void quiet_alsa_errors(const char*, int, const char*, int, const char*, ...) {}

std::string alsa_error(int err) {
  return std::string("ALSA: ") + snd_strerror(err);
}

class AlsaSource final : public SampleSource {
 public:
  AlsaSource(const std::string& device, int target_rate, const std::string& config_text,
             const volatile std::sig_atomic_t* stop)
      : device_(device), stop_(stop) {
    const std::string what = "--device " + device;
    snd_lib_error_set_handler(quiet_alsa_errors);
    int err = 0;
    if (!config_text.empty()) {
      snd_input_t* in = nullptr;
      if ((err = snd_config_top(&config_)) < 0 ||
          (err = snd_input_buffer_open(&in, config_text.data(),
                                       static_cast<ssize_t>(config_text.size()))) < 0)
        throw std::runtime_error(what + ": " + alsa_error(err));
      err = snd_config_load(config_, in);
      snd_input_close(in);
      if (err < 0) fail(what + ": bad ALSA configuration text (" + alsa_error(err) + ")");
      err = snd_pcm_open_lconf(&pcm_, device.c_str(), SND_PCM_STREAM_CAPTURE, 0, config_);
    } else {
      err = snd_pcm_open(&pcm_, device.c_str(), SND_PCM_STREAM_CAPTURE, 0);
    }
    if (err < 0) {
      pcm_ = nullptr;
      fail(what + ": cannot open for capture (" + alsa_error(err) +
           "; `tinykws listen --list-devices` lists the devices)");
    }
    snd_pcm_hw_params_t* hw = nullptr;
    snd_pcm_hw_params_alloca(&hw);
    unsigned rate = static_cast<unsigned>(target_rate), channels = 1;
    if ((err = snd_pcm_hw_params_any(pcm_, hw)) < 0 ||
        (err = snd_pcm_hw_params_set_access(pcm_, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
        (err = snd_pcm_hw_params_set_format(pcm_, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
        (err = snd_pcm_hw_params_set_channels_near(pcm_, hw, &channels)) < 0 ||
        (err = snd_pcm_hw_params_set_rate_near(pcm_, hw, &rate, nullptr)) < 0 ||
        (err = snd_pcm_hw_params(pcm_, hw)) < 0)
      fail(what + ": cannot capture S16_LE near " + std::to_string(target_rate) + " Hz (" +
           alsa_error(err) + ")");
    rate_ = static_cast<int>(rate), channels_ = static_cast<int>(channels);
    queue_ = std::make_unique<MonoQueue>(rate_, target_rate);
    pcm_block_.resize(kBlockFrames * channels);
    float_block_.resize(kBlockFrames * channels);
    if ((err = snd_pcm_prepare(pcm_)) < 0) fail(what + ": cannot start (" + alsa_error(err) + ")");
  }
  ~AlsaSource() override { close(); }

  size_t read(float* out, size_t max) override {
    while (queue_->size() == 0) {
      if (stop_ && *stop_) return 0;
      const snd_pcm_sframes_t n = snd_pcm_readi(pcm_, pcm_block_.data(), kBlockFrames);
      if (n == -EINTR) continue;
      if (n == -EPIPE || n == -ESTRPIPE) {
        if (!overrun_reported_)
          std::fprintf(stderr, "tinykws: --device %s: capture overrun, samples lost\n",
                       device_.c_str());
        overrun_reported_ = true;
        if (const int err = snd_pcm_recover(pcm_, static_cast<int>(n), 1); err < 0)
          throw std::runtime_error("--device " + device_ + ": " + alsa_error(err));
        continue;
      }
      if (n < 0)
        throw std::runtime_error("--device " + device_ + ": read failed (" +
                                 alsa_error(static_cast<int>(n)) + ")");
      if (n == 0) return 0;
      const size_t count = static_cast<size_t>(n) * channels_;
      for (size_t i = 0; i < count; ++i) float_block_[i] = pcm_block_[i] / 32768.0f;
      queue_->push_interleaved(float_block_.data(), static_cast<size_t>(n), channels_);
    }
    return queue_->pop(out, max);
  }
  int source_rate() const override { return rate_; }
  std::string describe() const override {
    return "ALSA device " + device_ + " (" + std::to_string(rate_) + " Hz, " +
           std::to_string(channels_) + " channel" + (channels_ > 1 ? "s" : "") + ")";
  }

 private:
  static constexpr size_t kBlockFrames = 1024;
  [[noreturn]] void fail(const std::string& msg) {
    close();
    throw InputError(msg);
  }
  void close() {
    if (pcm_) snd_pcm_close(pcm_), pcm_ = nullptr;
    if (config_) snd_config_delete(config_), config_ = nullptr;
  }

  std::string device_;
  const volatile std::sig_atomic_t* stop_;
  snd_pcm_t* pcm_ = nullptr;
  snd_config_t* config_ = nullptr;
  int rate_ = 0, channels_ = 1;
  std::unique_ptr<MonoQueue> queue_;
  std::vector<int16_t> pcm_block_;
  std::vector<float> float_block_;
  bool overrun_reported_ = false;
};

}  // namespace

bool alsa_available() {
  return true;
}

std::vector<CaptureDevice> list_capture_devices() {
  std::vector<CaptureDevice> out;
  void** hints = nullptr;
  if (const int err = snd_device_name_hint(-1, "pcm", &hints); err < 0)
    throw std::runtime_error("cannot list ALSA devices (" + alsa_error(err) + ")");
  for (void** h = hints; *h; ++h) {
    char* name = snd_device_name_get_hint(*h, "NAME");
    char* desc = snd_device_name_get_hint(*h, "DESC");
    char* ioid = snd_device_name_get_hint(*h, "IOID");
    if (name && (!ioid || std::strcmp(ioid, "Input") == 0)) out.push_back({name, desc ? desc : ""});
    std::free(name), std::free(desc), std::free(ioid);
  }
  snd_device_name_free_hint(hints);
  return out;
}

std::unique_ptr<SampleSource> open_alsa_capture(const std::string& device, int target_rate,
                                                const std::string& config_text,
                                                const volatile std::sig_atomic_t* stop) {
  return std::make_unique<AlsaSource>(device, target_rate, config_text, stop);
}

#else  // !TINYKWS_HAVE_ALSA

bool alsa_available() {
  return false;
}
std::vector<CaptureDevice> list_capture_devices() {
  throw InputError("this build has no ALSA support (install libasound2-dev and rebuild)");
}
std::unique_ptr<SampleSource> open_alsa_capture(const std::string& device, int, const std::string&,
                                                const volatile std::sig_atomic_t*) {
  throw InputError("--device " + device +
                   ": this build has no ALSA support (install libasound2-dev and rebuild)");
}

#endif

}  // namespace tkws
