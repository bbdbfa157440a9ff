#!/usr/bin/env bash
# One command for every test on a fresh Debian 12 machine: installs what is needed,
# builds with warnings as errors, and runs the whole ctest suite.
# Pass ctest arguments to narrow it, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh ci
cd build
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
