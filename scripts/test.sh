#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test.
# Tests on the real clips run when ../shared/data/speech_commands_updown (or $TINYKWS_DATA)
# is there and are skipped with a message when it is not.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j 2 --timeout 1200
