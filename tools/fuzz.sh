#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets of tests/fuzz/ with clang into ./build-fuzz (incremental)
# and runs each for FUZZ_SECONDS (default 20). Exits non-zero if a build fails or any target
# finds a crash, a sanitizer report, a broken invariant, a hang or a leak.
#
#   tools/fuzz.sh                     every target
#   tools/fuzz.sh wire_fuzzer ...     only these
#   FUZZ_SECONDS=600 tools/fuzz.sh    a longer run
#
# Each target's corpus grows in build-fuzz/fuzz-corpus/<target>/ (the seeds in
# tests/fuzz/corpus/<target>/ are only read; past 2000 files it is merged down), its log is build-fuzz/fuzz-logs/<target>.log, and
# a failing input is saved as build-fuzz/fuzz-artifacts/<target>-crash-<sha1>; replay it with
# `build-fuzz/tests/fuzz/<target> <file>`. BUILD_JOBS (default 1) bounds the build.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
jobs=${BUILD_JOBS:-1}
build=build-fuzz
all_targets=(request_fuzzer wire_fuzzer handshake_fuzzer control_fuzzer config_fuzzer gso_fuzzer
  answer_fuzzer)
targets=("${all_targets[@]}")
(($# == 0)) || targets=("$@")

# clang, its libFuzzer/sanitizer runtimes, and llvm-symbolizer for readable stacks: installed
# only when missing, with the rest of vdemesh's packages.
./tools/install-deps.sh clang libclang-rt-dev llvm

timeout 300 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DVDEMESH_FUZZ=ON \
  -DVDEMESH_BUILD_TESTS=ON >/dev/null
timeout "${BUILD_TIMEOUT:-2400}" cmake --build "$build" --target "${targets[@]}" -j "$jobs"

mkdir -p "$build/fuzz-logs" "$build/fuzz-artifacts"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=()
for t in "${targets[@]}"; do
  corpus="$build/fuzz-corpus/$t"
  log="$build/fuzz-logs/$t.log"
  mkdir -p "$corpus"
  # Keep the start-up replay short: once the corpus is large, keep only inputs that add coverage.
  if (($(find "$corpus" -type f | wc -l) > 2000)); then
    rm -rf "$corpus.min" && mkdir -p "$corpus.min"
    if "$build/tests/fuzz/$t" -merge=1 "$corpus.min" "$corpus" >"$log" 2>&1; then
      rm -rf "$corpus" && mv "$corpus.min" "$corpus"
    fi
  fi
  # -timeout: one input running longer than 10 s is a hang, and a failure.
  rc=0
  timeout $((seconds + 120)) "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
    "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  if ((rc == 0)); then
    printf 'fuzz: %-18s ok      %ss, %s runs, %s exec/s\n' "$t" "$seconds" "${runs:-?}" "${rate:-?}"
  else
    printf 'fuzz: %-18s FAILED  (exit %s), see %s\n' "$t" "$rc" "$log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant failed|artifact_prefix|Test unit written)' \
      "$log" | head -n 8 | sed 's/^/    /' || true
    failed+=("$t")
  fi
done

((${#failed[@]} == 0)) || { echo "fuzz: failures in ${failed[*]}"; exit 1; }
