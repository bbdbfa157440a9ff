#!/usr/bin/env bash
# Instructions the API process spends per request, counted by callgrind (exact on a shared,
# noisy machine, where req/s is not): `serve --workers 0` under valgrind, once with no load
# and once with wrk on keep-alive connections; the difference divided by the requests served.
# Usage: bench/request_cost.sh [BUILD_DIR] [PATH]   (default PATH /healthz; needs valgrind, wrk)
set -euo pipefail
BUILD=${1:-build}
TARGET=${2:-/healthz}
SERVE=$BUILD/surroundyou
[[ -x $SERVE ]] || SERVE=$BUILD/tests/service/sy_serve_driver
PORT=${PORT:-18097}
SECONDS_OF_LOAD=${SECONDS_OF_LOAD:-10}
WORK=$(mktemp -d)
PID=
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

run() {  # run LABEL LOAD(0/1): prints total instructions of the server process
  SY_MAX_CONNECTIONS_PER_CLIENT=0 valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$1" \
    "$SERVE" serve --listen 127.0.0.1:$PORT --data-dir "$WORK/data-$1" --workers 0 \
    >"$WORK/log.$1" 2>&1 &
  PID=$!
  for _ in $(seq 300); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.1; done
  local n=0
  if [[ $2 == 1 ]]; then
    wrk -t1 -c16 -d${SECONDS_OF_LOAD}s http://127.0.0.1:$PORT$TARGET >"$WORK/wrk.$1"
    n=$(awk '/requests in/ {print $1}' "$WORK/wrk.$1")
  fi
  kill -TERM $PID; wait $PID || true
  local ir
  ir=$(callgrind_annotate "$WORK/cg.$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo "$ir $n"
}
read -r idle_ir _ < <(run idle 0)
read -r load_ir requests < <(run load 1)
echo "$TARGET: $requests requests; $(( (load_ir - idle_ir) / requests )) instructions per request (server process, callgrind)"
if [[ -n ${KEEP:-} ]]; then cp "$WORK/cg.load" "$KEEP.load"; cp "$WORK/cg.idle" "$KEEP.idle"; echo "profiles kept in $KEEP.{idle,load}"; fi
