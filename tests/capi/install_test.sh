#!/usr/bin/env bash
# The installed runtime as a user sees it: `cmake --install` into a temporary prefix, then
# examples/ built against it with find_package(tinykws) (shared library, and the static library
# with the model embedded by `tinykws export --format c`) and with pkg-config; every program must
# print what `tinykws predict` prints for the same clips.
# usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
# Extra compiler and linker flags for the examples: a sanitized build's -fsanitize flags
# (tests/CMakeLists.txt sets them), empty otherwise.
flags=${TINYKWS_EXAMPLE_FLAGS:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in include/tinykws.h lib/libtinykws.a lib/libtinykws.so lib/cmake/tinykws/tinykwsConfig.cmake \
  lib/pkgconfig/tinykws.pc; do
  [ -e "$tmp/prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done

model="$src/tests/fixtures/tiny_model_v1.tkws"
/usr/bin/python3 - "$tmp" <<'PY'
import math, random, struct, sys, wave
random.seed(1)
for name in ("a", "b"):
    with wave.open(f"{sys.argv[1]}/{name}.wav", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
        x = [int(8000 * math.sin(i * (0.05 if name == "a" else 0.3)) + random.randint(-500, 500))
             for i in range(3000)]
        w.writeframes(struct.pack("<%dh" % len(x), *x))
PY
clips=("$tmp/a.wav" "$tmp/b.wav")
expected=$("$build/tinykws" predict --model "$model" "${clips[@]}")

"$build/tinykws" export --model "$model" --format c --out "$tmp/kws_model.c" >/dev/null
cmake -S "$src/examples" -B "$tmp/example" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DTINYKWS_EXAMPLE_ARRAY="$tmp/kws_model.c" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$tmp/example" >/dev/null
got=$("$tmp/example/classify" "$model" "${clips[@]}")
[ "$got" = "$expected" ] || { printf 'shared:\n%s\nexpected:\n%s\n' "$got" "$expected"; exit 1; }
got=$("$tmp/example/classify_embedded" "${clips[@]}")
[ "$got" = "$expected" ] || { printf 'embedded:\n%s\nexpected:\n%s\n' "$got" "$expected"; exit 1; }
if ldd "$tmp/example/classify_embedded" | grep -q libtinykws; then
  echo "classify_embedded should link libtinykws statically"; exit 1
fi

export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
# shellcheck disable=SC2046,SC2086  # flags and pkg-config's output are lists of options
cc -std=c11 -Wall -Werror $flags "$src/examples/classify.c" $(pkg-config --cflags --libs tinykws) \
  -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/classify_pc"
got=$("$tmp/classify_pc" "$model" "${clips[@]}")
[ "$got" = "$expected" ] || { printf 'pkg-config:\n%s\nexpected:\n%s\n' "$got" "$expected"; exit 1; }

# Errors: exit 2 and a message naming the file.
if "$tmp/example/classify" "$tmp/a.wav" "$tmp/a.wav" 2>"$tmp/err"; then exit 1; fi
grep -q "a.wav" "$tmp/err" || { cat "$tmp/err"; exit 1; }
echo "install test: shared, static + embedded array, pkg-config: all print what tinykws predict prints"
printf '%s\n' "$expected"
