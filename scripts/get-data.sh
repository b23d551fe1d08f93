#!/usr/bin/env bash
# Downloads Google's mini Speech Commands (8 words, ~1000 clips each, CC BY 4.0; the tutorial
# excerpt of Speech Commands v0.02) into DEST (default: data/) and verifies it.
# Usage: scripts/get-data.sh [DEST] [--yes]
# Verification: the archive is unpacked to a temporary folder, one clip of each of the eight
# words is compared with its pinned SHA-256 (the same files ship in the project's shared data),
# and the eight word folders must hold at least 900 clips each; only then is it moved to DEST.
# The archive's own SHA-256 is printed for the record. It has no _background_noise_ folder:
# white and pink noise are generated into one (below).
set -euo pipefail
url=https://storage.googleapis.com/download.tensorflow.org/data/mini_speech_commands.zip
dest=data
yes=0
for arg in "$@"; do
  case "$arg" in
    --yes | -y) yes=1 ;;
    *) dest=$arg ;;
  esac
done
pinned=(
  "down/004ae714_nohash_0.wav ea1a414f185f6476b94797bdc682da7c964ba3b2ddfc8ebf80d76cbe18d936a4"
  "up/0132a06d_nohash_2.wav ad7524a2d2f208e9f16e926b52b194e4e3033ee5e7c59c2f34deb062f665c2a9"
  "go/0137b3f4_nohash_3.wav 925342b79a43d203be1d0be0cc0a06ecd8160566c11012cdd9b4bf2f8dc4de28"
  "left/00b01445_nohash_0.wav f04aa076c7ab26efe74ea21d4fb6ccc8073c360d668afb55b9bf9dc9c3c3c2c1"
  "no/012c8314_nohash_0.wav 5d7193eb0fe19dccc8ae0cdf4a15280c8b94c5465ee3e3e55b0aec72f76b15c3"
  "right/012c8314_nohash_1.wav b98e234ee361621b24b4467dbf68b4a26865d0d3049a70b763eb460884eca7d5"
  "stop/012c8314_nohash_0.wav 3b0804b7e5ecf23816f81ee4cc4c243e608df36cc572ca49fb9bd10f926bacd7"
  "yes/012c8314_nohash_0.wav 6e382b991376beece4c26b8d934b2ad7f1bd6ea9aca2b6439061f1447dd9757a"
)
if [ -d "$dest/mini_speech_commands" ]; then
  echo "get-data: $dest/mini_speech_commands already exists"
  exit 0
fi
cat <<TXT
tinykws needs labelled 1-s clips. Google's mini Speech Commands (about 180 MB, CC BY 4.0,
Pete Warden, arXiv:1804.03209) is at
  $url
It will be unpacked to $dest/mini_speech_commands and verified.
TXT
if [ "$yes" != 1 ]; then
  if [ ! -t 0 ]; then
    echo "get-data: not a terminal; run 'bash scripts/get-data.sh --yes' to download" >&2
    exit 2
  fi
  read -r -p "Download it now? [y/N] " answer
  case "$answer" in y | Y | yes) ;; *) echo "get-data: not downloaded" >&2; exit 2 ;; esac
fi
command -v curl >/dev/null || { echo "get-data: curl is missing (apt-get install curl)" >&2; exit 1; }
command -v unzip >/dev/null || { echo "get-data: unzip is missing (apt-get install unzip)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fL --retry 3 -o "$tmp/msc.zip" "$url"
echo "get-data: archive sha256 $(sha256sum "$tmp/msc.zip" | cut -c1-64)"
unzip -q "$tmp/msc.zip" -d "$tmp/x"
root="$tmp/x/mini_speech_commands"
for entry in "${pinned[@]}"; do
  file=${entry% *} sum=${entry#* }
  got=$(sha256sum "$root/$file" 2>/dev/null | cut -c1-64 || true)
  if [ "$got" != "$sum" ]; then
    echo "get-data: verification failed: $file (expected sha256 $sum, found '${got:-missing}')" >&2
    exit 1
  fi
done
for w in down go left no right stop up yes; do
  n=$(find "$root/$w" -name '*.wav' | wc -l)
  [ "$n" -ge 900 ] || { echo "get-data: verification failed: $w/ holds $n clips" >&2; exit 1; }
done
# The excerpt has no _background_noise_ folder (the full dataset's holds real recordings plus
# generated white and pink noise). Generate those two, 60 s each, so the _silence_ class and
# background augmentation of configs/default.toml have something to draw from.
/usr/bin/python3 - "$root/_background_noise_" <<'PY'
import os, sys, wave
import numpy as np
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261204)
n = 16000 * 60
white = rng.standard_normal(n)
spec = np.fft.rfft(rng.standard_normal(n))
spec[1:] /= np.sqrt(np.arange(1, spec.size))  # 1/f power: pink
pink = np.fft.irfft(spec, n)
for name, x in (("white_noise.wav", white), ("pink_noise.wav", pink)):
    pcm = np.clip(np.round(x / np.abs(x).max() * 0.5 * 32767), -32768, 32767).astype("<i2")
    with wave.open(os.path.join(out, name), "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.writeframes(pcm.tobytes())
PY
mkdir -p "$dest"
mv "$root" "$dest/"
echo "get-data: verified; use --data $dest/mini_speech_commands (or TINYKWS_DATA=$dest/mini_speech_commands)"
