#!/usr/bin/env bash
# Runs the streaming detector on a microcontroller and checks it against the host: builds the
# firmware in mcu/ (the runtime, kissfft from its Debian source, a model as a C array and a
# stretch of audio in flash) for a Cortex-M4F with Debian's gcc-arm-none-eabi and newlib, runs
# it on ARM's MPS2 AN386 board under qemu-system-arm (semihosting prints to stdout, RAM capped
# at 256 KB by mcu/mps2-an386.ld), builds the same program for the host, and compares the two:
# every hop's network scores (within --tolerance) and every detection (sample and label exact).
# Prints what the board used: detector state, heap in use and at its peak, stack, code and
# model flash, and the instructions it executed (qemu -icount shift=0 makes the board's SysTick
# count one tick per 40 instructions; qemu models no cycle timing). docs/deploy.md, "On a
# Cortex-M4F".
#
#   scripts/mcu.sh --model runs/default/model.tkws --audio kw.wav [--threshold X]
#   scripts/mcu.sh --check      # the committed test models (float and int8) on synthetic audio
#
# Options: --model M (repeatable), --audio WAV (16-bit mono at the model's rate; default 4 s of
# synthetic tones and noise), --threshold X (every keyword; default the model's), --tolerance T
# (largest difference allowed between a board and a host score, default 1e-4), --out DIR
# (default build-mcu), --tinykws BIN (for `export`, default build/tinykws), --build-type T
# (the board's CMake build type, default MinSizeRel), --reference-kernels (the network on the
# plain reference kernels instead of the fast ones, on both sides), --profile (also sample the
# board's program counter every 10,000 instructions inside push() and print the functions the
# instructions went to; the whole table in DIR/NAME.profile.txt).
# Exit codes: 0 the board matches the host, 1 it does not (or a build failed), 2 bad usage,
# 77 skipped: the ARM toolchain, qemu or kissfft's source is missing (scripts/setup.sh
# installs and fetches them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

models=() audio="" threshold="-1" tol="1e-4" out="$root/build-mcu" tinykws="$root/build/tinykws"
build_type=MinSizeRel check=0 reference=OFF profile=OFF
usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --model) models+=("$(realpath "${2:?--model needs a file}")"); shift 2 ;;
    --audio) audio=$(realpath "${2:?--audio needs a WAV file}"); shift 2 ;;
    --threshold) threshold=${2:?}; shift 2 ;;
    --tolerance) tol=${2:?}; shift 2 ;;
    --out) out=$(realpath -m "${2:?}"); shift 2 ;;
    --tinykws) tinykws=$(realpath "${2:?}"); shift 2 ;;
    --build-type) build_type=${2:?}; shift 2 ;;
    --check) check=1; shift ;;
    --reference-kernels) reference=ON; shift ;;
    --profile) profile=ON; shift ;;
    -h|--help) usage ;;
    *) echo "mcu.sh: unknown option $1" >&2; usage ;;
  esac
done
if ((check)); then
  models=("$root/tests/fixtures/tiny_model_v1.tkws" "$root/tests/fixtures/ptq_model3_int8.tkws")
  threshold=0.3  # random-weight test models: low enough that some hops fire
fi
((${#models[@]})) || { echo "mcu.sh: give --model M.tkws (or --check)" >&2; exit 2; }
for m in "${models[@]}"; do [ -f "$m" ] || { echo "mcu.sh: $m: no such model file" >&2; exit 2; }; done
[ -z "$audio" ] || [ -f "$audio" ] || { echo "mcu.sh: $audio: no such audio file" >&2; exit 2; }
[ -x "$tinykws" ] || { echo "mcu.sh: $tinykws not built (scripts/build.sh)" >&2; exit 2; }
[[ "$threshold" == "-1" || "$threshold" =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] ||
  { echo "mcu.sh: --threshold $threshold must be in [0, 1]" >&2; exit 2; }
[[ "$tol" =~ ^[0-9.]+(e-?[0-9]+)?$ ]] || { echo "mcu.sh: --tolerance $tol is not a number" >&2; exit 2; }
# Every model's sample rate (the audio must have it, when given).
rates=()
for m in "${models[@]}"; do
  r=$("$tinykws" info "$m" 2>&1 | sed -n 's/^front end: [^,]*, \([0-9]*\) Hz.*/\1/p') ||
    true
  [ -n "$r" ] || { echo "mcu.sh: $m: not a model tinykws can read" >&2; "$tinykws" info "$m" >&2; exit 2; }
  rates+=("$r")
done

skip() { echo "mcu.sh: skipped: $*" >&2; exit 77; }
command -v arm-none-eabi-g++ >/dev/null || skip "no arm-none-eabi-g++ (gcc-arm-none-eabi)"
command -v qemu-system-arm >/dev/null || skip "no qemu-system-arm"
[ -f "$(arm-none-eabi-g++ -print-file-name=librdimon.a)" ] || skip "no newlib (libnewlib-arm-none-eabi)"
kissfft=$(bash "$root/scripts/fetch-kissfft.sh") || skip "kissfft's source is not in the cache and cannot be fetched"

mkdir -p "$out"
raw="$out/audio.raw"
/usr/bin/python3 - "$raw" "$audio" "${rates[@]}" <<'EOF' || exit 2
import math, random, struct, sys, wave
raw, src, rates = sys.argv[1], sys.argv[2], set(map(int, sys.argv[3:]))
if src:  # a WAV: its samples as they are (16-bit mono at the models' rate)
    try:
        w = wave.open(src)
    except (wave.Error, EOFError) as e:
        sys.exit(f"mcu.sh: {src}: not a PCM WAV file ({e})")
    if w.getsampwidth() != 2 or w.getnchannels() != 1:
        sys.exit(f"mcu.sh: {src}: needs 16-bit mono PCM (has {8 * w.getsampwidth()}-bit, "
                 f"{w.getnchannels()} channels)")
    if rates != {w.getframerate()}:
        sys.exit(f"mcu.sh: {src}: {w.getframerate()} Hz, the models want "
                 f"{', '.join(map(str, sorted(rates)))} Hz")
    data = w.readframes(w.getnframes())
else:  # 4 s at 16 kHz: quiet noise, then tone bursts with noise, deterministic
    rng, s = random.Random(7), []
    for i in range(64000):
        t = i / 16000.0
        burst = 0.3 * math.sin(2 * math.pi * (300 + 200 * (i // 8000)) * t) if (i // 4000) % 2 else 0
        s.append(int(max(-32768, min(32767, 32768 * (burst + rng.gauss(0, 0.01))))))
    data = struct.pack(f"<{len(s)}h", *s)
open(raw, "wb").write(data)
EOF

# One build folder per target; a model change rebuilds only the demo, not the runtime.
configure() {  # $1 folder, $2 model C file, rest: extra cmake args
  local dir=$1 model_c=$2
  shift 2
  cmake -S "$root/mcu" -B "$dir" -G Ninja -DKISSFFT_SOURCE_DIR="$kissfft" \
    -DTINYKWS_MCU_MODEL_C="$model_c" -DTINYKWS_MCU_MODEL_SYMBOL=g_tkws_mcu_model_data \
    -DTINYKWS_MCU_AUDIO="$raw" -DTINYKWS_MCU_THRESHOLD="$threshold" \
    -DTINYKWS_MCU_REFERENCE_KERNELS="$reference" "$@" >"$dir.cmake.log" 2>&1 ||
    { cat "$dir.cmake.log" >&2; return 1; }
  cmake --build "$dir" -j "$(nproc)" >"$dir.build.log" 2>&1 || { tail -30 "$dir.build.log" >&2; return 1; }
}

rc=0
for i in "${!models[@]}"; do
  m=${models[$i]}
  name=$(basename "$m" .tkws)
  model_c="$out/$name.c"
  "$tinykws" export --model "$m" --format c --name tkws_mcu --out "$model_c" >/dev/null
  configure "$out/host" "$model_c" -DCMAKE_BUILD_TYPE=Release
  configure "$out/board" "$model_c" -DCMAKE_BUILD_TYPE="$build_type" \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/arm-none-eabi-cortex-m4.cmake" \
    -DTINYKWS_MCU_PROFILE="$profile"
  "$out/host/kws_demo" >"$out/$name.host.txt"
  timeout 900 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none -icount shift=0 \
    -semihosting-config enable=on,target=native -kernel "$out/board/kws_demo.elf" \
    >"$out/$name.board.txt" 2>&1 || true
  arm-none-eabi-size -A "$out/board/kws_demo.elf" >"$out/$name.size.txt"
  arm-none-eabi-nm -C -S --defined-only "$out/board/kws_demo.elf" >"$out/$name.syms.txt"
  /usr/bin/python3 - "$name" "$out/$name.host.txt" "$out/$name.board.txt" "$out/$name.size.txt" \
    "$(stat -c %s "$m")" "$tol" "${rates[$i]}" "$out/$name.syms.txt" "$out/$name.profile.txt" \
    "$profile" <<'EOF' || rc=1
import bisect, collections, sys
name, host, board, size, model_bytes, tol, rate, syms, profile_out, profile = sys.argv[1:11]
tol = float(tol)
keep = ("model", "hop", "event", "done")
h = [l.split() for l in open(host) if l.startswith(keep)]
b = [l.split() for l in open(board) if l.startswith(keep)]
mem = [l.split() for l in open(board) if l.startswith("memory")]
ticks = [int(l.split()[1]) for l in open(board) if l.startswith("ticks")]
def fail(msg):
    print(f"mcu: {name}: FAILED: {msg}")
    print("  board output:", open(board).read()[-600:].replace("\n", "\n  "))
    sys.exit(1)
if not b or not mem: fail("the board printed no result")
if len(h) != len(b): fail(f"{len(b)} lines on the board, {len(h)} on the host")
worst = 0.0
for x, y in zip(h, b):
    if x[0] != y[0] or len(x) != len(y): fail(f"host '{' '.join(x)}' / board '{' '.join(y)}'")
    for i, (u, v) in enumerate(zip(x, y)):
        numeric = x[0] in ("hop", "event") and i >= 1 and not (x[0] == "event" and i in (1, 2))
        if numeric:
            worst = max(worst, abs(float(u) - float(v)))
        elif u != v:
            fail(f"host '{' '.join(x)}' / board '{' '.join(y)}'")
if worst > tol: fail(f"a score differs by {worst:.2e} (> {tol:g})")
sec = {p[0]: int(p[1]) for p in (l.split() for l in open(size)) if len(p) == 3 and p[1].isdigit()}
flash = sec.get(".text", 0) + sec.get(".ARM.extab", 0) + sec.get(".ARM.exidx", 0) + sec.get(".data", 0)
m = dict(zip(mem[0][1::2], map(int, mem[0][2::2])))
done = b[-1]
events = sum(1 for l in b if l[0] == "event")
print(f"mcu: {name}: the Cortex-M4F matches the host: {done[2]} hops, {events} detections, "
      f"largest score difference {worst:.1e}")
# The demo paints 32 kB below main's frame; all of it used means the heap reached it.
stack = f"{m['stack']} B" if m["stack"] < 32768 else "not measured (the heap reached its region)"
print(f"  RAM: detector state {m['state']} B; heap {m['heap_in_use']} B in use after create "
      f"({m['heap_at_start']} B of it the C++ library's), peak {m['heap_peak']} B; stack {stack}")
print(f"  flash: {flash} B of code and constants, the model's {model_bytes} B included "
      f"(audio {sec.get('.audio', 0)} B not counted)")
if ticks:  # 40 instructions per SysTick tick under -icount shift=0 (25 MHz board clock)
    insns, seconds = 40 * ticks[0], int(b[0][b[0].index("samples") + 1]) / float(rate)
    hops = max(int(done[2]), 1)
    print(f"  instructions in push(): {insns / seconds / 1e6:.2f} M per second of audio, "
          f"{insns / hops / 1e3:.0f} k per hop on average (qemu -icount; not cycles)")
pcs = [int(l.split()[1], 16) for l in open(board) if l.startswith("prof ")]
if profile == "ON" and not pcs: fail("--profile: the board recorded no samples")
if pcs:  # functions by address (Thumb symbols have bit 0 set), then each sample's function
    funcs = []
    for l in open(syms):
        p = l.split(maxsplit=3)
        if len(p) == 4 and p[2] in "TtWw" and int(p[1], 16) > 0:
            funcs.append((int(p[0], 16) & ~1, int(p[1], 16), p[3].strip()))
    funcs.sort()
    starts = [f[0] for f in funcs]
    count = collections.Counter()
    for pc in pcs:
        i = bisect.bisect_right(starts, pc) - 1
        inside = i >= 0 and pc < funcs[i][0] + funcs[i][1]
        count[funcs[i][2] if inside else f"?{pc:#x}"] += 1
    with open(profile_out, "w") as f:
        f.write(f"# {len(pcs)} samples of the program counter inside push(), one per 10,000 "
                "instructions\n# share  samples  function\n")
        for fn, c in count.most_common():
            f.write(f"{100 * c / len(pcs):6.2f} %  {c:7d}  {fn}\n")
    unknown = sum(c for fn, c in count.items() if fn.startswith("?"))
    if unknown > len(pcs) // 10: fail(f"--profile: {unknown} of {len(pcs)} samples in no function")
    print(f"  profile ({len(pcs)} samples; all of them in {profile_out}):")
    for fn, c in count.most_common(12):
        print(f"    {100 * c / len(pcs):5.1f} %  {fn[:110]}")
EOF
done
exit $rc
