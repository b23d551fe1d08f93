#!/usr/bin/env bash
# Cross-builds tinykws without training for a Raspberry Pi class board and runs its tests under
# qemu-user (no board needed):
#   scripts/cross.sh aarch64|armhf [--no-install] [--no-test] [--cpu cortex-a72|cortex-a53|all]
# aarch64: Raspberry Pi OS 64-bit / Debian arm64 (Pi 3, 4, 5). armhf: 32-bit, built with NEON
# (-mfpu=neon-vfpv4: Pi 2 v1.2 and later; Debian's own armhf baseline has no NEON).
# Installs the Debian cross toolchain, qemu-user-static and the target's libraries (multiarch),
# builds into build-<arch>/ (TINYKWS_WITH_TRAINING=OFF: runtime, audio, eval, predict, info,
# export, ...), then runs CTest with qemu as CMAKE_CROSSCOMPILING_EMULATOR, once per CPU model:
# -cpu cortex-a72 (Pi 4) and -cpu cortex-a53 (Pi 3) reject instructions those cores lack
# (armhf: cortex-a7 and cortex-a15).
# --compare-model M.tkws: also classify 20 validation clips of $TINYKWS_DATA with M natively
# (build/tinykws) and under qemu, and fail unless every probability agrees within 1e-5.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:-}
shift || true
install=1 test=1 cpus="" model=""
while (($#)); do
  case $1 in
    --no-install) install=0 ;;
    --no-test) test=0 ;;
    --cpu) cpus=$2; [ "$cpus" = all ] && cpus=""; shift ;;
    --compare-model) model=$2; shift ;;
    *) echo "cross.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case $arch in
  aarch64) deb=arm64 triple=aarch64-linux-gnu qemu=qemu-aarch64-static proc=aarch64 flags=""
    all_cpus="cortex-a72 cortex-a53" ;;
  # qemu-arm (32-bit) has no Cortex-A72 / A53 model: its ARMv7 NEON-VFPv4 cores are the
  # Cortex-A7 (Raspberry Pi 2) and the Cortex-A15.
  armhf) deb=armhf triple=arm-linux-gnueabihf qemu=qemu-arm-static proc=armv7l
    flags="-mfpu=neon-vfpv4" all_cpus="cortex-a7 cortex-a15" ;;
  *) echo "usage: scripts/cross.sh aarch64|armhf [--no-install] [--no-test] [--cpu CPU]" >&2; exit 2 ;;
esac

if ((install)); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  apt_opts=(-o DPkg::Lock::Timeout=900 -y -q --no-install-recommends)
  if ! dpkg --print-foreign-architectures | grep -qx "$deb"; then
    $SUDO dpkg --add-architecture "$deb"
  fi
  bash scripts/apt-update.sh
  # Target libraries of everything but training and search (no libtorch, no sqlite); header-only
  # packages (CLI11, nlohmann-json) are arch-independent and come from scripts/setup.sh.
  # libasound2-dev: `tinykws listen --device` (ALSA capture from a USB microphone).
  $SUDO apt-get install "${apt_opts[@]}" "crossbuild-essential-$deb" qemu-user-static \
    "libstdc++6:$deb" "libkissfft-dev:$deb" "libsndfile1-dev:$deb" "libsoxr-dev:$deb" \
    "libasound2-dev:$deb" \
    "libssl-dev:$deb" "zlib1g-dev:$deb" "libfmt-dev:$deb" "libtomlplusplus-dev:$deb" \
    "libflatbuffers-dev:$deb" "libgtest-dev:$deb" "libgmock-dev:$deb"
fi

cpus=${cpus:-$all_cpus}
build="build-$arch"
mkdir -p "$build"
# The emulator CTest runs target programs with: qemu without -L (the target's libraries are
# installed under their multiarch paths; -L /usr/<triple> would mix two C libraries and hang
# pthread_create), always under timeout, at low priority; the CPU model from TINYKWS_QEMU_CPU.
cat >"$build/qemu-run.sh" <<RUN
#!/usr/bin/env bash
exec timeout "\${TINYKWS_QEMU_TIMEOUT:-1500}" nice -n 10 $qemu -cpu "\${TINYKWS_QEMU_CPU:-${all_cpus%% *}}" "\$@"
RUN
chmod +x "$build/qemu-run.sh"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/linux-cross.cmake" \
  -DTINYKWS_CROSS_TRIPLE="$triple" -DTINYKWS_CROSS_PROCESSOR="$proc" \
  -DTINYKWS_CROSS_EMULATOR="$PWD/$build/qemu-run.sh" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DTINYKWS_WITH_TRAINING=OFF -DTINYKWS_BUILD_BENCH=OFF
nice -n 10 cmake --build "$build" -j 2

if ((test)); then
  # Tests that run the tinykws binary (tests/export) go through the emulator as well.
  export TINYKWS_TEST_EMULATOR="$PWD/$build/qemu-run.sh"
  for cpu in $cpus; do
    echo "== ctest under $qemu -cpu $cpu"
    TINYKWS_QEMU_CPU=$cpu ctest --test-dir "$build" -j 2 --output-on-failure --timeout 1800
  done
fi

if [ -n "$model" ]; then
  data=${TINYKWS_DATA:?--compare-model needs TINYKWS_DATA (the clips)}
  mapfile -t clips < <(/usr/bin/python3 - "$data" <<'PY'
import os, sys
root = sys.argv[1]
names = [l.strip() for l in open(os.path.join(root, "validation_list.txt")) if l.strip()]
for n in names[:: max(1, len(names) // 20)][:20]:
    print(os.path.join(root, n))
PY
)
  native=${TINYKWS_NATIVE_BIN:-./build/tinykws}  # a native build of the same source
  "$native" predict --model "$model" --json "${clips[@]}" >"$build/predict-native.json"
  for cpu in $cpus; do
    TINYKWS_QEMU_CPU=$cpu "$build/qemu-run.sh" "$build/tinykws" predict --model "$model" --json \
      "${clips[@]}" >"$build/predict-$cpu.json"
    /usr/bin/python3 - "$build/predict-native.json" "$build/predict-$cpu.json" "$cpu" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert [x["file"] for x in a] == [x["file"] for x in b]
d = max(abs(x["probabilities"][k] - y["probabilities"][k]) for x, y in zip(a, b) for k in x["probabilities"])
same = sum(x["label"] == y["label"] for x, y in zip(a, b))
print(f"{sys.argv[3]}: {len(a)} clips, max |p_arm - p_x86| = {d:.3g}, same label {same}/{len(a)}")
sys.exit(0 if d <= 1e-5 and same == len(a) else 1)
PY
  done
fi
