#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, trains the default config on
# the default data, then evaluates the trained model (validation split: the shared data
# withholds its test clips).
# Usage: scripts/run.sh [CONFIG] [OUT_DIR]   (defaults: configs/default.toml runs/default)
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-configs/default.toml}
out=${2:-runs/default}
bash scripts/setup.sh
bash scripts/build.sh
# No data at all (no --data, no $TINYKWS_DATA, no ../shared/data): offer mini Speech Commands.
if [ -z "${TINYKWS_DATA:-}" ] && [ ! -d ../shared/data/speech_commands_updown ] &&
  [ ! -d ../shared/data/speech_commands_others ]; then
  if [ ! -d data/mini_speech_commands ]; then
    echo "run: no dataset found (no \$TINYKWS_DATA, no ../shared/data)"
    bash scripts/get-data.sh data
  fi
  export TINYKWS_DATA=$PWD/data/mini_speech_commands
fi
./build/tinykws train --config "$config" --out "$out"
./build/tinykws eval --model "$out/model.tkws" --split val --json "$out/eval.json"
./build/tinykws info "$out/model.tkws"
