#!/usr/bin/env bash
# Builds tinykws with AddressSanitizer + UndefinedBehaviorSanitizer (no recovery: the first
# report ends the process and fails its test) into build-asan/ and runs the whole test suite
# there. Usage: scripts/sanitize.sh [extra ctest args]
# Environment: CC/CXX (default gcc/g++), SANITIZE_JOBS (build and ctest jobs, default 2).
# libtorch itself is not instrumented (Debian's build); the train tests and the CLI/search
# tests that train through it run with it as is, so what is checked is tinykws's own code.
# No test is left out (none is slow under ASan: the whole ctest took 213 s on the shared 2-core
# VM; the build ~2,100 s of CPU, ~18-20 min on two idle cores). .ci/run runs this script after
# the normal tests. Figures and findings: docs/reliability.md, "Sanitizers".
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${SANITIZE_JOBS:-2}
start=$(date +%s)
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="${CC:-gcc}" -DCMAKE_CXX_COMPILER="${CXX:-g++}" \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DTINYKWS_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
built=$(date +%s)

# detect_leaks: on; LSan suppressions name only leaks inside uninstrumented libraries.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
rc=0
ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 2400 "$@" || rc=$?
end=$(date +%s)
echo "sanitize: build $((built - start)) s, tests $((end - built)) s, exit $rc"
exit "$rc"
