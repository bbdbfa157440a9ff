#!/usr/bin/env bash
# Installs every Debian package that building, running and testing SurroundYou needs.
# Idempotent: packages already present are left alone. Run as root on Debian 12.
set -euo pipefail

packages=(
  # toolchain; clang and its runtimes build the sanitizer tree and the libFuzzer targets
  build-essential cmake ninja-build pkg-config git ca-certificates clang libclang-rt-14-dev
  # audio I/O and DSP
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev
  libmysofa-dev libmysofa1 libfftw3-dev libeigen3-dev
  # beat and bar tracking for motion locked to the music
  libqm-dsp-dev
  # CLI, logging, JSON
  libcli11-dev libspdlog-dev nlohmann-json3-dev
  # service: HTTP (Boost.Beast/Asio), signatures, embedded queue, config, metrics, load tests
  libboost-dev libssl-dev libsqlite3-dev libtomlplusplus-dev prometheus-cpp-dev wrk
  # web page: build (npm registry packages via npm ci) and browser tests
  nodejs chromium
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
  # the reference loudness and true-peak meter the engine's own are tested against
  libebur128-dev
  ffmpeg hyperrogue-music time espeak-ng
  # the README's service example, run as printed by a test
  curl jq
  # scale-out: PostgreSQL queue, S3 over libcurl; real PostgreSQL and Ceph RGW in the tests
  libpq-dev libcurl4-openssl-dev postgresql python3-botocore radosgw ceph-mon ceph-osd
)
# Debian's npm, unless an npm already came with another Node.js build (e.g. NodeSource's).
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi
