#!/usr/bin/env python3
"""The `tinykws` Python module (python/tinykws_py.cpp) against the tinykws command line.

usage: /usr/bin/python3 test_tinykws.py BUILD_DIR SOURCE_DIR
(BUILD_DIR/python holds the module, BUILD_DIR/tinykws the binary.)
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import wave

import numpy as np

BUILD, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(BUILD, "python"))
import tinykws  # noqa: E402

MODEL = os.path.join(SOURCE, "tests", "fixtures", "tiny_model_v1.tkws")


def write_wav(path, x, rate):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.round(x * 32768).clip(-32768, 32767).astype("<i2").tobytes())


class TinykwsModule(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.m = tinykws.Model(MODEL)
        rng = np.random.default_rng(3)
        # Exactly representable in int16 / 32768, so the WAV round trip is lossless.
        cls.clip = (rng.integers(-6000, 6000, cls.m.clip_samples) / 32768).astype(np.float32)
        cls.wav = os.path.join(cls.tmp.name, "a.wav")
        write_wav(cls.wav, cls.clip, cls.m.sample_rate)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def cli(self, *args):
        return subprocess.run([os.path.join(BUILD, "tinykws"), *args], check=True,
                              capture_output=True, text=True).stdout

    def test_labels_and_predict_match_the_cli(self):
        self.assertEqual(len(self.m.labels), 3)
        p = self.m.predict(self.clip)
        self.assertEqual(list(p), sorted(self.m.labels))
        self.assertAlmostEqual(sum(p.values()), 1.0, places=5)
        want = json.loads(self.cli("predict", "--model", MODEL, "--json", self.wav))[0]
        for label, prob in want["probabilities"].items():
            self.assertAlmostEqual(p[label], prob, places=6)

    def test_features_match_the_cli(self):
        f = self.m.features(self.clip)
        self.assertEqual(f.dtype, np.float32)
        npy = os.path.join(self.tmp.name, "f.npy")
        self.cli("features", "--model", MODEL, self.wav, "--out", npy)
        np.testing.assert_array_equal(f, np.load(npy).reshape(f.shape))

    def test_short_clip_is_zero_padded(self):
        short = self.clip[:1000]
        padded = np.concatenate([short, np.zeros(self.m.clip_samples - 1000, np.float32)])
        self.assertEqual(self.m.predict(short), self.m.predict(padded))

    def test_wrong_input_is_value_error(self):
        with self.assertRaisesRegex(ValueError, "float32"):
            self.m.predict(self.clip.astype(np.float64))
        with self.assertRaisesRegex(ValueError, "1-D"):
            self.m.predict(self.clip.reshape(2, -1))
        with self.assertRaisesRegex(ValueError, "no samples"):
            self.m.features(np.zeros(0, np.float32))
        with self.assertRaisesRegex(ValueError, "float32"):
            self.m.predict([0.0, 1.0])  # a list becomes a float64 array
        bad = os.path.join(self.tmp.name, "bad.tkws")
        with open(bad, "wb") as f:
            f.write(b"RIFF0000WAVEfmt ")
        with self.assertRaisesRegex(ValueError, "bad.tkws"):
            tinykws.Model(bad)
        with self.assertRaisesRegex(OSError, "missing.tkws"):
            tinykws.Model(os.path.join(self.tmp.name, "missing.tkws"))

    def test_detector_events_do_not_depend_on_push_sizes(self):
        opts = dict(threshold=0.0, min_hops=1, refractory_ms=300, hop_ms=100, gate=False)
        x = np.random.default_rng(5).uniform(-0.4, 0.4, 40000).astype(np.float32)
        whole = tinykws.Detector(self.m, **opts).push(x)
        self.assertGreater(len(whole), 3)
        for t, label, score in whole:
            self.assertIn(label, self.m.labels)
            self.assertTrue(0.0 <= score <= 1.0)
        self.assertEqual([e[0] for e in whole], sorted(e[0] for e in whole))
        d = tinykws.Detector(self.m, **opts)
        parts = []
        for i in range(0, len(x), 3001):
            parts += d.push(x[i:i + 3001])
        self.assertEqual(parts, whole)
        d.reset()
        self.assertEqual(d.push(x), whole)  # a new stream from time 0

    def test_detector_reuse_option_keeps_the_events(self):
        opts = dict(threshold=0.0, min_hops=1, refractory_ms=200, hop_ms=40, gate=False)
        x = np.random.default_rng(6).uniform(-0.4, 0.4, 40000).astype(np.float32)
        on = tinykws.Detector(self.m, **opts).push(x)
        off = tinykws.Detector(self.m, reuse_activations=0, **opts).push(x)
        self.assertGreater(len(on), 3)
        self.assertEqual(on, off)

    def test_detector_bad_options_and_input(self):
        with self.assertRaisesRegex(ValueError, "unknown option 'treshold'"):
            tinykws.Detector(self.m, treshold=0.5)
        with self.assertRaisesRegex(ValueError, "hop_ms"):
            tinykws.Detector(self.m, hop_ms=0)
        with self.assertRaisesRegex(ValueError, "must be a number"):
            tinykws.Detector(self.m, threshold="high")
        with self.assertRaisesRegex(ValueError, "float32"):
            tinykws.Detector(self.m).push(np.zeros(100))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
