#!/usr/bin/env bash
# Installs every Debian 12 package tinykws needs to build, train, test and benchmark.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev            # training (train/ only)
  libkissfft-dev          # FFT (frontend/)
  libsndfile1-dev libsoxr-dev libssl-dev  # audio/ (libssl: SHA-1 of the speaker-hash split rule)
  libasound2-dev          # ALSA capture for `tinykws listen --device` (audio/alsa_capture.cpp)
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libfmt-dev
  zlib1g-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libxnnpack-dev libpthreadpool-dev  # peer benchmark only (bench/bench_peers.cpp)
  python3-numpy           # golden vectors (tests/golden/make_golden.py), optional at test time
  chromium                # headless browser test of the HTML report (tests/report)
  clang libfuzzer-14-dev  # scripts/fuzz.sh (libFuzzer targets in fuzz/); not the normal build
  slurm-wlm               # single-node Slurm test (tests/cluster); skipped without it
  libflatbuffers-dev      # TFLite export (export/tflite_builder.h, header-only use)
  python3-onnx            # onnx.checker on exported ONNX files (tests/export)
  python3-pyarmnn libarmnn-cpuref-backend22  # Arm NN TFLite parser runs exported .tflite (tests/export)
  pybind11-dev python3-dev  # the Python module (python/, built into build/python/)
  # The firmware of mcu/ for a Cortex-M4F, run under qemu (scripts/mcu.sh; tests/CMakeLists.txt)
  gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
)
command -v npm >/dev/null || packages+=(nodejs npm)  # onnxruntime-node below (tests/export)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  bash "$(dirname "$0")/apt-update.sh"
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "setup: all ${#packages[@]} packages present"

# onnxruntime for the ONNX export tests (tests/export/ort_run.js): npm's onnxruntime-node with
# its CPU binaries; ONNXRUNTIME_NODE_INSTALL=skip stops its post-install from downloading GPU
# parts. Installed once into $TINYKWS_NODE_DIR (default ~/.cache/tinykws-node).
node_dir="${TINYKWS_NODE_DIR:-$HOME/.cache/tinykws-node}"
if [ ! -d "$node_dir/node_modules/onnxruntime-node" ]; then
  mkdir -p "$node_dir"
  (cd "$node_dir" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund \
    onnxruntime-node@1.31.1) || echo "setup: npm onnxruntime-node not installed; ONNX runtime checks will skip"
fi

# kissfft's C sources for the microcontroller build (Debian's source tarball, pinned SHA-256).
bash "$(dirname "$0")/fetch-kissfft.sh" >/dev/null ||
  echo "setup: kissfft's source not fetched; the microcontroller check (scripts/mcu.sh) will skip"
