#!/usr/bin/env bash
# Benchmarks `surroundyou serve` on loopback (numbers go to docs/BENCHMARKS.md):
#   1. status requests/s and latency with wrk at 256 connections while the workers render,
#      and how many idle connections the API process holds per MiB;
#   2. songs per minute through the service, and through the CLI on the same files;
#   3. upload throughput into the embedded store and the server's memory growth (500 MB);
#   4. /healthz latency and the API process's memory while its render children work through
#      songs and sample-rate bombs, and how fast an idle child picks up a new job.
# Usage: bench/service_bench.sh [BUILD_DIR]   (needs wrk, curl, ffmpeg, python3)
#   SONGS=N songs per throughput run (default 8); SONGS_ONLY=1 measures songs per minute
#   (service, then the same songs as threads of one worker process beside the API, then the
#   CLI) and nothing else, to repeat those numbers for a steadier mean.
set -euo pipefail
BUILD=${1:-build}
SERVE=${SERVE:-$BUILD/tests/service/sy_serve_driver}
if [[ -x $BUILD/surroundyou ]] && "$BUILD/surroundyou" --help 2>&1 | grep -qE '^ +serve'; then
  SERVE=$BUILD/surroundyou
fi
CLI=$BUILD/surroundyou
PORT=${PORT:-18090}
SONGS=${SONGS:-8}
WORKERS=${WORKERS:-$(nproc)}
WORK=$(mktemp -d)
trap 'kill ${SERVER_PID:-} ${WORKER_PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
BASE=http://127.0.0.1:$PORT
json() { python3 -c "import sys,json; d=json.load(sys.stdin); print($1)"; }

ffmpeg -loglevel error -y -i /usr/share/hyperrogue/music/hr3-caves.ogg -ac 2 -c:a libmp3lame -b:a 192k "$WORK/song.mp3"
DUR=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$WORK/song.mp3")
mkdir -p "$WORK/in"
for i in $(seq 1 "$SONGS"); do cp "$WORK/song.mp3" "$WORK/in/song$i.mp3"; done

start_server() {
  # wrk's 256 connections all come from 127.0.0.1: the per-client connection cap (64) is off.
  SY_CREATE_PER_MINUTE=0 SY_MAX_CONNECTIONS_PER_CLIENT=0 SY_MAX_UPLOAD_BYTES=600000000 "$SERVE" serve --listen 127.0.0.1:$PORT \
    --data-dir "$WORK/data" --workers "$WORKERS" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf $BASE/readyz >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
# One Python process drives the API (no process start per call while the CPUs render).
client() {  # submit FILE... | wait JOBS_FILE
  python3 - "$BASE" "$@" <<'PY'
import http.client, json, os, sys, time, urllib.parse
base, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
host = urllib.parse.urlparse(base).netloc
def call(method, target, body=None, headers={}):
    c = http.client.HTTPConnection(host, timeout=600)
    c.request(method, target, body=body, headers=headers)
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, data
if cmd == "submit":
    for f in args:
        size = os.path.getsize(f)
        st, data = call("POST", "/api/v1/jobs", json.dumps({"filename": os.path.basename(f), "size": size}))
        job = json.loads(data)
        u = urllib.parse.urlparse(job["upload"]["url"])
        with open(f, "rb") as fh:
            st, _ = call("PUT", u.path + "?" + u.query, fh.read(), {"Content-Length": str(size)})
        assert st == 200, st
        print(job["id"], job["token"])
elif cmd == "wait":
    jobs = [l.split() for l in open(args[0])]
    left = {j[0]: j[1] for j in jobs}
    outcomes = {}
    give_up = time.time() + 900  # a render process that died must not hang the benchmark
    while left:
        if time.time() > give_up:
            sys.exit("jobs still unfinished after 15 minutes: %d" % len(left))
        for i, t in list(left.items()):
            st, data = call("GET", "/api/v1/jobs/" + i, headers={"Authorization": "Bearer " + t})
            job = json.loads(data)
            if job["status"] in ("done", "failed"):
                key = job["status"] + (": " + job["error"] if job.get("error") and job["status"] == "failed" else "")
                outcomes[key] = outcomes.get(key, 0) + 1
                del left[i]
        time.sleep(0.1)
    if len(jobs) > 1:
        print("  jobs: " + "; ".join("%d %s" % (n, k) for k, n in sorted(outcomes.items())))
PY
}

# The CLI on the same files and the same number of parallel jobs.
cli_songs() {
  if "$CLI" render --help >/dev/null 2>&1; then
    local t0 t1
    t0=$(date +%s.%N)
    "$CLI" render "$WORK"/in/*.mp3 --out-dir "$WORK/cli-out" --jobs "$WORKERS" --progress none --force
    t1=$(date +%s.%N)
    python3 -c "print('cli: %d songs in %.1f s = %.2f songs/min' % ($SONGS, $t1-$t0, $SONGS*60/($t1-$t0)))"
  fi
}

start_server
echo "server: $SERVE, $WORKERS workers, $(nproc) cores; song ${DUR}s; $SONGS songs"

# 2: songs per minute through the service, nothing else running.
T0=$(date +%s.%N)
client submit "$WORK"/in/*.mp3 >"$WORK/jobs"
client wait "$WORK/jobs"
T1=$(date +%s.%N)
python3 -c "print('service: %d songs in %.1f s = %.2f songs/min' % ($SONGS, $T1-$T0, $SONGS*60/($T1-$T0)))"
if [[ ${SONGS_ONLY:-0} == 1 ]]; then  # throughput alone: repeat it cheaply, e.g. SONGS=24
  kill $SERVER_PID; wait $SERVER_PID 2>/dev/null || true
  # The same songs rendered as threads of one process (the pre-isolation design): the API
  # alone, and one `surroundyou worker --jobs N` on its data directory. The difference from
  # the line above is what the render children cost.
  if "$CLI" worker --help 2>&1 | grep -q -- '--jobs'; then
    rm -rf "$WORK/data"
    WORKERS=0 start_server  # the API alone
    SY_DATA_DIR="$WORK/data" "$CLI" worker --jobs "$WORKERS" >"$WORK/worker.log" 2>&1 &
    WORKER_PID=$!
    # Timed from when its renders are prepared (filters, FFT plans), as serve's children are
    # by the time the uploads above have gone through; at most 30 s.
    for _ in $(seq 300); do grep -q "renders prepared" "$WORK/worker.log" && break; sleep 0.1; done
    T0=$(date +%s.%N)
    client submit "$WORK"/in/*.mp3 >"$WORK/jobs"
    client wait "$WORK/jobs"
    T1=$(date +%s.%N)
    python3 -c "print('threads in one worker process: %d songs in %.1f s = %.2f songs/min' % ($SONGS, $T1-$T0, $SONGS*60/($T1-$T0)))"
    kill $WORKER_PID $SERVER_PID 2>/dev/null || true; wait $WORKER_PID $SERVER_PID 2>/dev/null || true
  fi
  cli_songs
  exit 0
fi

# 1: hammer a done job's status (and /healthz, the HTTP layer alone), first with idle
# workers, then while they render. The machine is shared: each line gives the load average
# and the server's CPU time per request (user+system over the run of the API process; the
# renders run in its child processes and are not counted).
read -r ID TOKEN <"$WORK/jobs"
hammer() {  # LABEL URL
  local c0 c1 n
  c0=$(awk '{print $14+$15}' /proc/$SERVER_PID/stat)
  wrk -t2 -c256 -d8s --latency -H "Authorization: Bearer $TOKEN" "$2" >"$WORK/wrk.txt"
  c1=$(awk '{print $14+$15}' /proc/$SERVER_PID/stat)
  n=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
  printf '%s: %s req/s, p50 %s, p99 %s, server CPU %s us/request, load %s%s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")" \
    "$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")" \
    "$(python3 -c "print('%.1f' % (($c1 - $c0) * 1e6 / $(getconf CLK_TCK) / $n))")" \
    "$(cut -d' ' -f1 /proc/loadavg)" "$(grep -E 'Non-2xx|Socket errors' "$WORK/wrk.txt" | tr -s ' \n' ' ' | sed 's/^/; /')"
}
hammer "healthz, idle workers" $BASE/healthz
hammer "status, idle workers" $BASE/api/v1/jobs/$ID
client submit "$WORK"/in/*.mp3 >"$WORK/jobs2"
hammer "status while the workers render" $BASE/api/v1/jobs/$ID
BUSY=$(curl -s $BASE/metrics | awk '/^sy_workers_busy/ {print $2}')
echo "  (workers busy at the end: $BUSY)"
client wait "$WORK/jobs2"

# 1b: idle connections the API process holds per MiB: open 1,000 connections that send
# nothing and read the process's RSS before and after.
python3 - "$PORT" "$SERVER_PID" <<'PY'
import resource, socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
rss = lambda: int([l.split()[1] for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS")][0])
before = rss(); socks = []
for _ in range(1000):
    s = socket.create_connection(("127.0.0.1", port)); socks.append(s)
time.sleep(1.0)
after = rss()
grown = max(after - before, 1) / 1024.0
print("idle connections: 1000 held, API RSS %d -> %d KiB (+%.1f MiB, %.0f connections per MiB)"
      % (before, after, grown, 1000 / grown))
for s in socks: s.close()
PY

# 3: a 500 MB upload.
head -c 500000000 /dev/urandom >"$WORK/big.wav"
RSS0=$(awk '/VmRSS/ {print $2}' /proc/$SERVER_PID/status)
size=$(stat -c %s "$WORK/big.wav")
resp=$(curl -sf -X POST $BASE/api/v1/jobs -d "{\"filename\":\"big.wav\",\"size\":$size}")
url=$(json 'd["upload"]["url"]' <<<"$resp")
curl -sf -o /dev/null -w 'upload 500 MB: %{time_total} s, %{speed_upload} B/s\n' -T "$WORK/big.wav" "$url"
HWM=$(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status)
echo "server RSS before upload ${RSS0} KiB, peak ${HWM} KiB"

# 4: songs and sample-rate bombs (a WAV header claiming 750,000,017 Hz, issue 10) at once:
# /healthz while the children render and die, the API process's RSS sampled every 0.1 s
# (the process alone; each render child has its own memory limit), the children's peak.
python3 - "$WORK/bomb.wav" <<'PY'
import struct, sys
data = bytes(2 << 20)
fmt = struct.pack("<HHIIHH", 1, 2, 750000017, (750000017 * 4) & 0xffffffff, 4, 16)
with open(sys.argv[1], "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)
PY
for i in 1 2 3 4; do cp "$WORK/bomb.wav" "$WORK/in/bomb$i.wav"; done
( peak=0; while kill -0 $SERVER_PID 2>/dev/null; do
    r=$(awk '/VmRSS/ {print $2}' /proc/$SERVER_PID/status 2>/dev/null || echo 0)
    (( r > peak )) && peak=$r && echo $peak >"$WORK/api_rss_peak"
    for c in $(pgrep -P $SERVER_PID); do awk '/VmHWM/ {print $2}' /proc/$c/status 2>/dev/null; done \
      >>"$WORK/child_hwm"
    sleep 0.1
  done ) &
SAMPLER=$!
client submit "$WORK"/in/*.mp3 "$WORK"/in/bomb*.wav >"$WORK/jobs3"
hammer "healthz while children render songs and bombs" $BASE/healthz
client wait "$WORK/jobs3"
kill $SAMPLER 2>/dev/null || true
echo "API RSS peak $(cat "$WORK/api_rss_peak") KiB; render children peak $(sort -n "$WORK/child_hwm" | tail -1) KiB"

# 5: how fast an idle child takes a new job: one short song at a time, the time from the
# API's "job queued" to the child's "job started" (their log lines, millisecond stamps).
ffmpeg -loglevel error -y -t 2 -i "$WORK/song.mp3" -c copy "$WORK/short.mp3"
: >"$WORK/jobs4"
for i in $(seq 1 10); do
  client submit "$WORK/short.mp3" >"$WORK/one"
  client wait "$WORK/one"
  cat "$WORK/one" >>"$WORK/jobs4"
  sleep 0.2
done
python3 - "$WORK/server.log" "$WORK/jobs4" <<'PY'
import datetime, json, sys
ids = {l.split()[0] for l in open(sys.argv[2])}
queued, started = {}, {}
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    t = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
    if e.get("job_id") in ids and e.get("msg") == "job queued": queued[e["job_id"]] = t
    if e.get("job_id") in ids and e.get("msg") == "job started": started.setdefault(e["job_id"], t)
lat = sorted((started[i] - queued[i]) * 1000 for i in ids if i in queued and i in started)
print("wake-up, job queued -> job started in an idle child: median %.0f ms, max %.0f ms (%d jobs)"
      % (lat[len(lat) // 2], lat[-1], len(lat)))
PY
kill $SERVER_PID; wait $SERVER_PID 2>/dev/null || true

cli_songs
