#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is needed, builds, and starts
# the single-node platform with its embedded defaults (http://127.0.0.1:8080, data in ./data).
# Extra arguments go to `surroundyou serve`, e.g. `scripts/run.sh --listen 0.0.0.0:8080`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
exec build/surroundyou serve "$@"
