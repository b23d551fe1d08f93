#!/usr/bin/python3
"""Golden vectors for the tinykws feature front end (tests/frontend/golden_test.cpp).

An independent float64 NumPy implementation of the formulas in docs/frontend.md
(TensorFlow tf.signal semantics), written from the formulas, not from the C++ code.
Deterministic: the same files come out on every run (seeded generator, fixed configs).

Run with Debian's numpy:  /usr/bin/python3 tests/golden/make_golden.py
Writes into the folder of this script:
  frontend_clip.npy           [16000] int16, the one test clip every config shares
  frontend_<name>_params.npy  [11] float32, the config (layout: PARAM_FIELDS below)
  frontend_<name>_logmel.npy  [frames, num_mel_bins] float32, ln(mel + 1e-6)
  frontend_<name>_mfcc.npy    [frames, num_mfcc] float32
"""
import os

import numpy as np

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
SAMPLE_RATE = 16000  # Hz
CLIP_SAMPLES = 16000  # 1 s
LOG_OFFSET = 1e-6  # ln(mel + 1e-6), docs/frontend.md

# Order of the values in frontend_<name>_params.npy; golden_test.cpp reads the same order.
PARAM_FIELDS = ("sample_rate", "clip_samples", "frame_length", "frame_step", "fft_length",
                "num_mel_bins", "lower_hz", "upper_hz", "num_mfcc", "spectrum", "pcm_divisor")
MAGNITUDE, POWER = 0, 1

# Every value below is exactly representable in float32 (the params file's dtype).
CONFIGS = {
    # The course front end: 40 ms / 20 ms, fft_length = frame = 640 = 2^7 * 5 (mixed radix).
    "course": dict(frame_length=640, frame_step=320, fft_length=640, num_mel_bins=40,
                   lower_hz=20.0, upper_hz=4000.0, num_mfcc=10, spectrum=MAGNITUDE,
                   pcm_divisor=32768.0),
    # Report 1 (Tab. I): 0.064 s / 0.032 s, fft default (1024), 100 mel bins, 20-1000 Hz.
    # Many of these bands are narrower than the 15.6 Hz bin spacing: some are all zero.
    "report1": dict(frame_length=1024, frame_step=512, fft_length=0, num_mel_bins=100,
                    lower_hz=20.0, upper_hz=1000.0, num_mfcc=10, spectrum=MAGNITUDE,
                    pcm_divisor=32768.0),
    # Report 2: 0.032 s / 0.016 s, fft default (512), 16 mel bins, 20-4000 Hz. The report asks
    # for 20 MFCCs, but tf slices [..., :20] of only 16 coefficients, so it gets 16: the
    # effective num_mfcc is 16 and that is what is generated here.
    "report2": dict(frame_length=512, frame_step=256, fft_length=0, num_mel_bins=16,
                    lower_hz=20.0, upper_hz=4000.0, num_mfcc=16, spectrum=MAGNITUDE,
                    pcm_divisor=32768.0),
    # Odd frame length (Hann with D = L - 1), fft_length 0 -> 512, power spectrum |X|^2.
    "odd_power": dict(frame_length=401, frame_step=160, fft_length=0, num_mel_bins=40,
                      lower_hz=20.0, upper_hz=7600.0, num_mfcc=13, spectrum=POWER,
                      pcm_divisor=32768.0),
    # Odd FFT length (405 = 3^4 * 5: the complex-FFT path), and the course's /32767 scaling.
    "odd_fft": dict(frame_length=401, frame_step=200, fft_length=405, num_mel_bins=32,
                    lower_hz=50.0, upper_hz=7000.0, num_mfcc=12, spectrum=MAGNITUDE,
                    pcm_divisor=32767.0),
}


def make_clip(rng):
    """[16000] int16: a linear chirp, three tones and white noise under a slow envelope,
    then 1200 samples of digital silence (a clip zero-padded at the end)."""
    t = np.arange(CLIP_SAMPLES) / SAMPLE_RATE  # s
    f0, f1 = 100.0, 7000.0  # Hz, chirp sweep over the 1 s clip
    chirp = 0.30 * np.sin(2 * np.pi * (f0 * t + 0.5 * (f1 - f0) * t * t))
    tones = (0.10 * np.sin(2 * np.pi * 440.0 * t) + 0.05 * np.sin(2 * np.pi * 1000.0 * t + 0.3) +
             0.02 * np.sin(2 * np.pi * 2500.0 * t + 1.1))
    noise = 0.01 * rng.standard_normal(CLIP_SAMPLES)
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 1.5 * t)
    x = envelope * (chirp + tones) + noise
    x[-1200:] = 0.0
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def hann_periodic(length):
    """Periodic Hann: w[n] = 0.5 - 0.5 cos(2 pi n / D), D = L (even L) or L - 1 (odd L)."""
    d = length if length % 2 == 0 else length - 1
    n = np.arange(length, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / d)


def hz_to_mel(f):
    return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_matrix(num_mel_bins, num_bins, sample_rate, lower_hz, upper_hz):
    """[num_bins, num_mel_bins] triangular weights in the mel domain; DC row zero; no area
    normalisation."""
    f = np.arange(num_bins) * (sample_rate / 2.0) / (num_bins - 1)  # Hz, bin centres
    mel_f = hz_to_mel(f)[:, None]
    edges = np.linspace(hz_to_mel(lower_hz), hz_to_mel(upper_hz), num_mel_bins + 2)
    left, centre, right = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    rising = (mel_f - left) / (centre - left)
    falling = (right - mel_f) / (right - centre)
    w = np.maximum(0.0, np.minimum(rising, falling))
    w[0, :] = 0.0
    return w


def dct_matrix(num_mfcc, num_mel_bins):
    """[num_mfcc, M]: sqrt(2/M) cos(pi k (2n+1) / (2M)), k = 0 included (c0 not halved)."""
    m = num_mel_bins
    k = np.arange(num_mfcc)[:, None]
    n = np.arange(m)[None, :]
    return np.sqrt(2.0 / m) * np.cos(np.pi * k * (2 * n + 1) / (2.0 * m))


def features(clip_int16, cfg):
    """Returns (logmel [frames, M], mfcc [frames, K]) in float64."""
    x = clip_int16.astype(np.float64) / cfg["pcm_divisor"]
    length, step = cfg["frame_length"], cfg["frame_step"]
    nfft = cfg["fft_length"] or int(2 ** np.ceil(np.log2(length)))
    frames = 1 + (len(x) - length) // step  # no end padding
    index = np.arange(frames)[:, None] * step + np.arange(length)[None, :]
    windowed = x[index] * hann_periodic(length)[None, :]
    spectrum = np.abs(np.fft.rfft(windowed, n=nfft, axis=1))  # zero-pads to nfft
    if cfg["spectrum"] == POWER:
        spectrum = spectrum ** 2
    w = mel_matrix(cfg["num_mel_bins"], nfft // 2 + 1, SAMPLE_RATE, cfg["lower_hz"],
                   cfg["upper_hz"])
    logmel = np.log(spectrum @ w + LOG_OFFSET)
    mfcc = logmel @ dct_matrix(cfg["num_mfcc"], cfg["num_mel_bins"]).T
    return logmel, mfcc


def main():
    rng = np.random.default_rng(20240611)
    clip = make_clip(rng)
    np.save(os.path.join(OUT_DIR, "frontend_clip.npy"), clip)
    for name, c in CONFIGS.items():
        cfg = dict(sample_rate=SAMPLE_RATE, clip_samples=CLIP_SAMPLES, **c)
        params = np.array([cfg[k] for k in PARAM_FIELDS], dtype=np.float32)
        assert all(float(p) == float(cfg[k]) for p, k in zip(params, PARAM_FIELDS))
        logmel, mfcc = features(clip, cfg)
        np.save(os.path.join(OUT_DIR, f"frontend_{name}_params.npy"), params)
        np.save(os.path.join(OUT_DIR, f"frontend_{name}_logmel.npy"), logmel.astype(np.float32))
        np.save(os.path.join(OUT_DIR, f"frontend_{name}_mfcc.npy"), mfcc.astype(np.float32))
        print(f"{name}: logmel {logmel.shape} [{logmel.min():.3f}, {logmel.max():.3f}], "
              f"mfcc {mfcc.shape}")


if __name__ == "__main__":
    main()
