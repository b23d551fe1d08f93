#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan + UBSan, no recovery) into build-fuzz/ and
# runs each for SECONDS (default 60). Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# Targets: wav tkws config space constraints stream_labels export (default: all, one after the other).
# Each run starts from the committed seeds (fuzz/corpus/<target>/; export: tkws's) plus what earlier runs found
# (build-fuzz/corpus/<target>/, not committed). A crash, leak, timeout or out-of-memory is
# written to fuzz/regressions/<target>/ (crash-<sha1> etc.), where the replay test
# `fuzz_replay_<target>` of the normal build runs it from then on; the script goes on with the
# next target and exits 1 at the end. Environment: FUZZ_JOBS=N runs N targets at once (default
# 1); FUZZ_ARGS adds libFuzzer flags; CC/CXX default to clang/clang++.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
# Default: every target of fuzz/CMakeLists.txt's list (`foreach(t ...)`).
((${#targets[@]})) || read -ra targets < <(sed -n 's/^foreach(t \(.*\))$/\1/p' fuzz/CMakeLists.txt)

command -v "${CXX:-clang++}" >/dev/null || {
  echo "fuzz: ${CXX:-clang++} not found (apt-get install clang libfuzzer-14-dev)" >&2
  exit 2
}
san="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="${CC:-clang}" -DCMAKE_CXX_COMPILER="${CXX:-clang++}" \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" \
  -DTINYKWS_FUZZ=ON -DTINYKWS_BUILD_TESTS=OFF -DTINYKWS_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "${FUZZ_BUILD_JOBS:-2}" --target "${targets[@]/#/fuzz_}"

# Seed corpora: fuzz/corpus/<target>/, except the exporters', which start from the models'.
declare -A seeds_of=([export]=tkws)
# Per-target input size limits (bytes): a default model file is ~4-7 kB, configs ~3 kB.
declare -A max_len=([wav]=4096 [tkws]=16384 [config]=8192 [space]=4096 [constraints]=256
  [stream_labels]=4096 [export]=16384)

run_one() {
  local t=$1
  local work=build-fuzz/corpus/$t regress=fuzz/regressions/$t log=build-fuzz/fuzz-$t.log
  mkdir -p "$work" "$regress"
  echo "fuzz: $t for ${seconds}s (log $log)"
  local rc=0
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build-fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len="${max_len[$t]:-4096}" \
    -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$regress/" \
    ${FUZZ_ARGS:-} "$work" "fuzz/corpus/${seeds_of[$t]:-$t}" >"$log" 2>&1 || rc=$?
  local execs cov
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  echo "fuzz: $t: ${execs:-?} executions, $cov, exit $rc"
  if ((rc != 0)); then
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 >&2 || true
    grep -o 'Test unit written to .*' "$log" >&2 || true
    return 1
  fi
}

failed=()
jobs_max=${FUZZ_JOBS:-1}
declare -A pid_of=()
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs_max)); do wait -n || true; done
  run_one "$t" &
  pid_of[$t]=$!
done
for t in "${targets[@]}"; do
  wait "${pid_of[$t]}" || failed+=("$t")
done
if ((${#failed[@]})); then
  echo "fuzz: findings in: ${failed[*]} (reproducers in fuzz/regressions/<target>/)" >&2
  exit 1
fi
echo "fuzz: no findings in ${targets[*]}"
