#!/usr/bin/python3
"""How a model's keyword scores hold up when the word moves in the 1 s window.

A streaming detector sees each word at every position of its window, one hop apart, and fires
only after several hops in a row score above the threshold (docs/streaming.md). This script
takes the keyword clips of a data folder's validation split, moves each by -400 .. +400 ms
(zeros shifted in, as the training's time shift does), and prints the share of clips whose
own keyword wins (argmax) and whose own keyword scores at least THRESHOLD.

Usage: scripts/shift-robustness.py MODEL DATA_DIR [THRESHOLD=0.8]
  DATA_DIR: a Speech Commands layout (one folder per word, validation_list.txt).
Needs the Python module (build/python, built with the project) and numpy; run with
/usr/bin/python3 so Debian's numpy is found.
"""
import os
import sys
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "build", "python"))
import tinykws  # noqa: E402


def read_clip(path, n):
    with wave.open(path) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            sys.exit("%s: expected 16-bit mono PCM" % path)
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    y = np.zeros(n, np.float32)
    y[: min(n, len(x))] = x[:n]
    return y


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    model = tinykws.Model(sys.argv[1])
    root = sys.argv[2]
    threshold = float(sys.argv[3]) if len(sys.argv) == 4 else 0.8
    labels = model.labels
    listing = os.path.join(root, "validation_list.txt")
    if not os.path.isfile(listing):
        sys.exit("%s: no validation_list.txt" % root)
    with open(listing) as f:
        names = sorted(line.strip() for line in f if line.strip())
    clips = [(read_clip(os.path.join(root, p), model.clip_samples), p.split("/")[0])
             for p in names if p.split("/")[0] in labels and not p.split("/")[0].startswith("_")]
    if not clips:
        sys.exit("%s: no validation clips of the model's labels %s" % (root, labels))
    rate = model.sample_rate
    print("%d clips; shift (ms), own label wins, own label >= %g" % (len(clips), threshold))
    for shift_ms in range(-400, 401, 100):
        s = shift_ms * rate // 1000
        wins = above = 0
        for x, label in clips:
            y = np.roll(x, s)
            if s > 0:
                y[:s] = 0
            elif s < 0:
                y[s:] = 0
            p = model.predict(y)
            k = max(p, key=p.get)
            wins += k == label
            above += p[label] >= threshold
        print("%+5d %6.1f %% %6.1f %%" % (shift_ms, 100.0 * wins / len(clips),
                                          100.0 * above / len(clips)))


if __name__ == "__main__":
    main()
