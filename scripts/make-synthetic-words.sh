#!/usr/bin/env bash
# Synthetic speech for the `_unknown_` class: CLIPS one-word clips spoken by espeak-ng (Debian
# `espeak-ng`) with varied voices, speed and pitch, words drawn from Debian's English word list
# (`wamerican`), written as one data folder that `--data` (or $TINYKWS_DATA) accepts:
#
#   OUT/synthetic/espeak-<voice>-s<speed>-p<pitch>_nohash_<word>.wav   (22.05 kHz; resampled on load)
#   OUT/validation_list.txt, OUT/testing_list.txt                      (empty: every clip trains)
#
# The folder's one label, `synthetic`, is not a keyword, so a keyword model trains it as
# `_unknown_` (unknown_words empty = every other word) and never validates on it: validation
# stays real speech. Words that contain a keyword or any word of the data folders (EXCLUDE) are
# left out, so the held-out words stay unseen. Deterministic for a given SEED and espeak-ng build.
#
# Usage: scripts/make-synthetic-words.sh OUT [CLIPS=2000] [SEED=0] [EXCLUDE="up down go ..."]
set -euo pipefail
out=${1:?usage: make-synthetic-words.sh OUT [CLIPS] [SEED] [EXCLUDE]}
clips=${2:-2000}
seed=${3:-0}
exclude=${4:-"up down go left no right stop yes"}
dict=/usr/share/dict/american-english
command -v espeak-ng >/dev/null || { echo "make-synthetic-words: espeak-ng is not installed (apt-get install espeak-ng)" >&2; exit 2; }
[[ -r $dict ]] || { echo "make-synthetic-words: $dict is missing (apt-get install wamerican)" >&2; exit 2; }
[[ $clips =~ ^[0-9]+$ && $clips -gt 0 ]] || { echo "make-synthetic-words: CLIPS must be a positive integer, got '$clips'" >&2; exit 2; }
[[ $seed =~ ^[0-9]+$ ]] || { echo "make-synthetic-words: SEED must be a non-negative integer, got '$seed'" >&2; exit 2; }

# Built in a temporary folder beside OUT and renamed into place: a killed run leaves no half set.
tmp=$(mktemp -d "${out%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/synthetic"

# Candidate words: lower-case letters only, 2-9 letters, none containing an excluded word.
pattern=$(printf '%s|' $exclude)
pattern=${pattern%|}
grep -E '^[a-z]{2,9}$' "$dict" | grep -Ev "($pattern)" >"$tmp/words"

# English voices and espeak-ng's voice variants (male, female, and a few characters).
voices=(en-us en-gb en-gb-scotland en-gb-x-rp en-gb-x-gbclan en-gb-x-gbcwmd en-029)
variants=(m1 m2 m3 m4 m5 m6 m7 f1 f2 f3 f4 f5 klatt klatt2 croak whisper)

# One line per clip: word voice variant speed pitch, from awk's seeded generator.
awk -v n="$clips" -v seed="$seed" -v nv="${#voices[@]}" -v nq="${#variants[@]}" '
  { w[NR] = $0 }
  END {
    srand(seed + 1)
    for (i = 0; i < n; ++i) {
      printf "%s %d %d %d %d\n", w[1 + int(rand() * NR)], int(rand() * nv), int(rand() * nq),
             120 + int(rand() * 101), 20 + int(rand() * 61)
    }
  }' "$tmp/words" >"$tmp/plan"

k=0
while read -r word v q speed pitch; do
  voice="${voices[$v]}+${variants[$q]}"
  name="espeak-${voices[$v]}-${variants[$q]}-s${speed}-p${pitch}_nohash_${word}-$k.wav"
  espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$tmp/synthetic/$name" "$word"
  k=$((k + 1))
done <"$tmp/plan"
: >"$tmp/validation_list.txt"
: >"$tmp/testing_list.txt"
rm "$tmp/words" "$tmp/plan"

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "make-synthetic-words: $clips clips in $out/synthetic"
