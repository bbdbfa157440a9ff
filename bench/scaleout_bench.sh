#!/usr/bin/env bash
# scaleout_bench.sh [BUILD_DIR] — songs per minute with 1 and 2 `surroundyou worker`s against
# PostgreSQL + Ceph RGW on this machine, next to the embedded single node (`surroundyou serve`
# with 2 workers) on the same songs in the same run, and the worker's CPU-seconds per 5-minute
# song (the input of the cost arithmetic in docs/SCALING.md). Not a test: prints numbers.
#
# Song sets: "short" = 8 copies of a 58 s song (the set of bench/service_bench.sh), "5min" =
# 6 copies of a 5:00 song. Each phase starts its servers, submits every song (create, presigned
# PUT, then `POST .../uploaded`), and times first submission → last job done, as
# service_bench.sh does. Every phase is bounded: PHASE_TIMEOUT seconds in all (default 600)
# and STALL_TIMEOUT seconds without any job moving (default 120) stop it with the job table,
# the queue rows and the logs' tails. All servers started here are stopped on exit.
# Environment: SETS="short 5min", MODES="embedded 1 2" select what runs.
set -euo pipefail
build=${1:-build}
bin=$(cd "$build" && pwd)/surroundyou
here=$(cd "$(dirname "$0")/.." && pwd)
PHASE_TIMEOUT=${PHASE_TIMEOUT:-600}
STALL_TIMEOUT=${STALL_TIMEOUT:-120}
SETS=${SETS:-short 5min}
MODES=${MODES:-embedded 1 2}
state=$(mktemp -d /tmp/sy-bench.XXXXXX)
cleanup() {
  # Only processes this script started: the driver writes each child's pid to $state/pids.
  if [[ -f $state/pids ]]; then
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$state/pids"
  fi
  "$here/tests/scaleout/stop_rgw.sh" "$state/rgw" >/dev/null 2>&1 || true
  "$here/tests/scaleout/stop_pg.sh" "$state/pg" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores; load average at start $(load)"

mkdir -p "$state/songs"
ffmpeg -v error -y -i /usr/share/hyperrogue/music/hr3-caves.ogg -ac 2 -c:a libmp3lame -b:a 192k \
  "$state/songs/short.mp3"
ffmpeg -v error -y -stream_loop 3 -i /usr/share/hyperrogue/music/hr-domina-mountain.ogg -t 300 \
  -c:a libmp3lame -b:a 192k "$state/songs/5min.mp3"

echo "== CPU-seconds per 5-minute song (render, one process; load $(load))"
/usr/bin/time -f "cpu_seconds=%U+%S wall=%e maxrss_kb=%M" "$bin" render "$state/songs/5min.mp3" \
  -o "$state/out.mp3" --force --progress none

if [[ $MODES == *[12]* ]]; then
  timeout --foreground 60 "$here/tests/scaleout/start_pg.sh" "$state/pg" >/dev/null
  timeout --foreground 300 "$here/tests/scaleout/start_rgw.sh" "$state/rgw" >"$state/rgw-start.log" 2>&1 ||
    { echo "error: RGW did not start" >&2; cat "$state/rgw-start.log" >&2; exit 1; }
  # shellcheck disable=SC1091
  source "$state/rgw/env"
  pg=$(cat "$state/pg/url")
fi

# The driver of one phase: starts the API (and workers), submits the songs, waits for them
# (bounded), stops what it started and prints one line of numbers.
cat >"$state/driver.py" <<'PY'
import argparse, http.client, json, os, signal, subprocess, sys, time, urllib.parse

ap = argparse.ArgumentParser()
for name in ("mode", "song", "set", "binary", "state", "pids"):
    ap.add_argument("--" + name, required=True)
for name in ("jobs", "port", "phase_timeout", "stall_timeout"):
    ap.add_argument("--" + name.replace("_", "-"), dest=name, type=int, required=True)
a = ap.parse_args()
os.makedirs(a.state, exist_ok=True)
base = f"http://127.0.0.1:{a.port}"
children = []  # (name, Popen, log path)
signal.signal(signal.SIGTERM, lambda sig, _: sys.exit(128 + sig))  # run the finally below


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def spawn(name, argv):
    log = os.path.join(a.state, name + ".log")
    p = subprocess.Popen(argv, stdout=open(log, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    with open(a.pids, "a") as f:
        f.write(f"{p.pid}\n")
    children.append((name, p, log))
    return p


def call(method, url, body=None, headers=None, timeout=120):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.netloc, timeout=timeout)
    c.request(method, u.path + ("?" + u.query if u.query else ""), body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


class Failure(Exception):
    pass


def report_and_exit(why, table):
    print(f"error: {a.set}/{a.mode}: {why} (load {loadavg()})", file=sys.stderr)
    for line in table:
        print("  job " + line, file=sys.stderr)
    if os.environ.get("SY_QUEUE_BACKEND") == "postgres":
        subprocess.run(["psql", "-X", os.environ["SY_QUEUE_URL"], "-c",
                        "SELECT id, status, attempts, progress, stage, lease_owner, lease_expires, error FROM sy_jobs ORDER BY seq"],
                       stdout=sys.stderr, stderr=sys.stderr, timeout=20, check=False)
    for name, p, log in children:
        print(f"--- {name} (pid {p.pid}, {'running' if p.poll() is None else 'exited ' + str(p.returncode)}), last lines of {log}:", file=sys.stderr)
        with open(log, errors="replace") as f:
            for line in f.readlines()[-15:]:
                print("    " + line.rstrip(), file=sys.stderr)
    sys.exit(1)


def stop(p, grace=20.0):
    """SIGTERM, then SIGKILL after `grace` s; returns the child's CPU seconds (user + sys)."""
    if p.returncode is not None:
        return 0.0
    p.send_signal(signal.SIGTERM)
    deadline = time.time() + grace
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.time() > deadline:
            p.kill()
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        time.sleep(0.1)


def wait_for(what, check, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        for name, p, _ in children:
            if p.poll() is not None:
                raise Failure(f"{name} exited with {p.returncode} while waiting for {what}")
        if check():
            return
        time.sleep(0.1)
    raise Failure(f"timed out after {seconds} s waiting for {what}")


def ready():
    try:
        return call("GET", base + "/readyz", timeout=2)[0] == 200
    except OSError:
        return False


table = []
try:
    embedded = a.mode == "embedded"
    workers = 2 if embedded else int(a.mode)
    if not embedded:
        sys.path.insert(0, "/usr/lib/python3/dist-packages")
        import botocore.session
        s3 = botocore.session.get_session().create_client(
            "s3", endpoint_url=os.environ["SY_S3_ENDPOINT"], region_name="us-east-1",
            aws_access_key_id=os.environ["SY_S3_ACCESS_KEY"], aws_secret_access_key=os.environ["SY_S3_SECRET_KEY"])
        s3.create_bucket(Bucket=os.environ["SY_S3_BUCKET"])
    api = spawn("api", [a.binary, "serve", "--workers", "2" if embedded else "0", "--listen",
                        f"127.0.0.1:{a.port}", "--data-dir", os.path.join(a.state, "data")])
    wait_for("the API's /readyz", ready, 30)
    worker_procs = []
    if not embedded:
        for k in range(workers):
            worker_procs.append(spawn(f"worker{k}", [a.binary, "worker", "--scratch-dir", os.path.join(a.state, f"scratch{k}")]))
        logs = [log for name, _, log in children if name.startswith("worker")]
        wait_for("the workers to start", lambda: all('"worker started"' in open(l).read() for l in logs), 60)

    data = open(a.song, "rb").read()
    duration = float(subprocess.check_output(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", a.song]))
    load_before = loadavg()
    t0 = time.time()
    jobs = {}
    for i in range(a.jobs):
        st, body = call("POST", base + "/api/v1/jobs", json.dumps({"filename": f"s{i}.mp3", "size": len(data)}),
                        {"Content-Type": "application/json"})
        if st != 201:
            raise Failure(f"create job: HTTP {st} {body[:200]!r}")
        j = json.loads(body)
        st, body = call("PUT", j["upload"]["url"], data, dict(j["upload"]["headers"], **{"Content-Length": str(len(data))}))
        if st != 200:
            raise Failure(f"upload: HTTP {st} {body[:300]!r}")
        # The explicit fallback (no bucket notification is configured here); on the embedded
        # store the PUT has queued the job already and this changes nothing.
        st, body = call("POST", base + f"/api/v1/jobs/{j['id']}/uploaded", b"", {"Authorization": "Bearer " + j["token"]})
        if st != 202:
            raise Failure(f"uploaded: HTTP {st} {body[:200]!r}")
        jobs[j["id"]] = {"token": j["token"], "status": "queued", "progress": 0.0}

    pending = set(jobs)
    last_change = time.time()
    while pending:
        now = time.time()
        for name, p, _ in children:
            if p.poll() is not None:
                raise Failure(f"{name} exited with {p.returncode} while jobs were pending")
        if now - t0 > a.phase_timeout:
            raise Failure(f"{len(pending)} of {a.jobs} jobs not done after {a.phase_timeout} s (PHASE_TIMEOUT)")
        if now - last_change > a.stall_timeout:
            raise Failure(f"no job moved for {a.stall_timeout} s (STALL_TIMEOUT); {len(pending)} pending")
        for i in sorted(pending):
            st, body = call("GET", base + f"/api/v1/jobs/{i}", headers={"Authorization": "Bearer " + jobs[i]["token"]})
            if st != 200:
                raise Failure(f"status of {i}: HTTP {st} {body[:200]!r}")
            v = json.loads(body)
            if (v["status"], v.get("progress")) != (jobs[i]["status"], jobs[i]["progress"]):
                last_change = time.time()
            jobs[i].update(status=v["status"], progress=v.get("progress"), error=v.get("error"), attempts=v.get("attempts"))
            if v["status"] in ("done", "failed"):
                pending.discard(i)
        table = [f"{i} {j['status']} progress={j['progress']} attempts={j.get('attempts')} error={j.get('error')}" for i, j in jobs.items()]
        time.sleep(0.25)
    elapsed = time.time() - t0
    load_after = loadavg()
    failed = [i for i, j in jobs.items() if j["status"] != "done"]
    if failed:
        raise Failure(f"{len(failed)} of {a.jobs} jobs failed")

    worker_cpu = sum(stop(p) for p in worker_procs)
    api_cpu = stop(api)
    if embedded:
        what = "embedded  `serve --workers 2` (SQLite + local store)"
        cpu = f"server_cpu_s_per_song={api_cpu / a.jobs:.2f}"
    else:
        what = f"scale-out {workers} worker{'s' if workers > 1 else ' '} + API (PostgreSQL + RGW)"
        cpu = f"worker_cpu_s_per_song={worker_cpu / a.jobs:.2f} api_cpu_s_per_song={api_cpu / a.jobs:.3f}"
    print(f"{a.set:5s} {what}: {a.jobs} x {duration:.1f} s songs in {elapsed:.1f} s = "
          f"{a.jobs * 60 / elapsed:.2f} songs/min; {cpu}; load {load_before} -> {load_after}", flush=True)
except Failure as e:
    report_and_exit(str(e), table)
finally:
    for _, p, _ in children:
        if p.poll() is None:
            p.kill()
            p.wait()
PY

phase=0
for set in $SETS; do
  case $set in short) jobs=8 ;; 5min) jobs=6 ;; *) echo "unknown set $set" >&2; exit 2 ;; esac
  for mode in $MODES; do
    phase=$((phase + 1))
    if [[ $mode == embedded ]]; then
      env_args=(SY_QUEUE_BACKEND=sqlite SY_STORAGE_BACKEND=local)
    else
      schema=bench$phase
      psql -q "$pg" -c "CREATE SCHEMA $schema" >/dev/null
      env_args=(SY_QUEUE_BACKEND=postgres SY_STORAGE_BACKEND=s3 SY_S3_ENDPOINT="$RGW_ENDPOINT"
        SY_S3_PATH_STYLE=true SY_S3_ACCESS_KEY="$RGW_ACCESS_KEY" SY_S3_SECRET_KEY="$RGW_SECRET_KEY"
        SY_QUEUE_URL="$pg?options=-csearch_path%3D$schema" SY_S3_BUCKET="$schema")
    fi
    # The outer timeout is a last resort; the driver stops itself first (PHASE_TIMEOUT).
    env "${env_args[@]}" SY_CREATE_PER_MINUTE=0 \
      timeout --foreground -k 10 $((PHASE_TIMEOUT + 60)) python3 "$state/driver.py" \
      --mode "$mode" --jobs "$jobs" --song "$state/songs/$set.mp3" --set "$set" --binary "$bin" \
      --state "$state/phase$phase" --pids "$state/pids" --port $((18100 + phase)) \
      --phase-timeout "$PHASE_TIMEOUT" --stall-timeout "$STALL_TIMEOUT"
  done
done
