// ALSA capture as a SampleSource (stream_source.h) for `tinykws listen --device NAME`.
// The device is opened for capture as S16_LE interleaved at the rate nearest the model's that
// it offers, with the fewest channels it allows (mixed down to mono); audio at another rate
// is resampled with libsoxr. Built only when ALSA (libasound2-dev) is found; otherwise every
// function throws InputError saying so.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tinykws/audio/stream_source.h"

namespace tkws {

bool alsa_available();  // built with ALSA

struct CaptureDevice {
  std::string name, description;
};
// ALSA's PCM name hints that can capture ("default", "hw:CARD=...,DEV=0", ...).
std::vector<CaptureDevice> list_capture_devices();

// Opens `device` for capture. `config_text`, when not empty, is ALSA configuration text whose
// PCM definitions are looked up instead of the system's (snd_config_load + snd_pcm_open_lconf):
// e.g. a `file` plugin that replays a raw file, how the tests capture without sound hardware.
// InputError "--device NAME: cannot open for capture (ALSA: ...)" for an unknown device.
// read() returns 0 early when *stop becomes non-zero, if stop is given.
std::unique_ptr<SampleSource> open_alsa_capture(const std::string& device, int target_rate,
                                                const std::string& config_text = "",
                                                const volatile std::sig_atomic_t* stop = nullptr);

}  // namespace tkws
