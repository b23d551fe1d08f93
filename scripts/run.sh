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
./build/tinykws train --config "$config" --out "$out"
./build/tinykws eval --model "$out/model.tkws" --split val --json "$out/eval.json"
./build/tinykws info "$out/model.tkws"
