#!/usr/bin/env bash
# One command for every test on a fresh Debian 12 machine: installs what is needed, builds
# with warnings as errors and runs the whole ctest suite; then builds the clang sanitizer
# tree (the asan preset, build-asan/) and runs the unit, cli and service tests under
# AddressSanitizer + UBSan and each libFuzzer target for a bounded time (label fuzz).
# Pass ctest arguments to narrow the first run, e.g. `scripts/test.sh -L unit`; the
# sanitizer run is then left out unless SY_SANITIZER_RUN=1.
set -euo pipefail
cd "$(dirname "$0")/.."

# Seconds each phase took, so CI logs show what the time budget goes to.
phase_start=$SECONDS
phase_done() {
  echo "test.sh: $1 took $((SECONDS - phase_start)) s"
  phase_start=$SECONDS
}

scripts/setup.sh
phase_done "setup"
scripts/build.sh ci
phase_done "release build"
(cd build && ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@")
phase_done "tests"

if [[ $# -eq 0 || ${SY_SANITIZER_RUN:-0} == 1 ]]; then
  scripts/build.sh asan
  phase_done "sanitizer build"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-strict_string_checks=1:detect_stack_use_after_return=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
  # Renders run several times slower under the sanitizers; the servers these tests start
  # get a longer render time limit (the tests of the limit itself set their own).
  export SY_WORKER_TIME_LIMIT_SECONDS=${SY_WORKER_TIME_LIMIT_SECONDS:-600}
  (cd build-asan && ctest --output-on-failure --timeout 600 -j "$(nproc)" -L '^(unit|cli|service|fuzz)$')
  phase_done "sanitizer and fuzz tests"
fi
