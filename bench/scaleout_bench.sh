#!/usr/bin/env bash
# scaleout_bench.sh [BUILD_DIR] — songs per minute with 1 and 2 `surroundyou worker`s against
# PostgreSQL + Ceph RGW on this machine, and the worker's CPU-seconds per 5-minute song
# (the input of the cost arithmetic in docs/SCALING.md). Not a test: prints numbers.
set -euo pipefail
build=${1:-build}
bin=$(cd "$build" && pwd)/surroundyou
here=$(cd "$(dirname "$0")/.." && pwd)
state=$(mktemp -d /tmp/sy-bench.XXXXXX)
trap '"$here/tests/scaleout/stop_rgw.sh" "$state/rgw" >/dev/null; "$here/tests/scaleout/stop_pg.sh" "$state/pg" >/dev/null; rm -rf "$state"' EXIT
"$here/tests/scaleout/start_pg.sh" "$state/pg" >/dev/null
"$here/tests/scaleout/start_rgw.sh" "$state/rgw" >/dev/null 2>&1
# shellcheck disable=SC1091
source "$state/rgw/env"
song=$state/song5min.mp3
ffmpeg -v error -y -stream_loop 3 -i /usr/share/hyperrogue/music/hr-domina-mountain.ogg -t 300 -b:a 192k "$song"

echo "== CPU-seconds per 5-minute song (render, one process)"
/usr/bin/time -f "cpu_seconds=%U+%S wall=%e maxrss_kb=%M" "$bin" render "$song" -o "$state/out.mp3" --force --progress none

export SY_QUEUE_BACKEND=postgres SY_STORAGE_BACKEND=s3 SY_S3_ENDPOINT=$RGW_ENDPOINT SY_S3_PATH_STYLE=true \
  SY_S3_ACCESS_KEY=$RGW_ACCESS_KEY SY_S3_SECRET_KEY=$RGW_SECRET_KEY SY_CREATE_PER_MINUTE=0
pg=$(cat "$state/pg/url")
for workers in 1 2; do
  jobs=6
  schema=bench$workers
  psql -q "$pg" -c "CREATE SCHEMA $schema" >/dev/null
  export SY_QUEUE_URL="$pg?options=-csearch_path%3D$schema" SY_S3_BUCKET=bench$workers
  python3 - "$workers" "$jobs" "$song" "$bin" "$state" <<'PY'
import json, os, subprocess, sys, time, urllib.request
workers, jobs, song, binary, state = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
sys.path.insert(0, "/usr/lib/python3/dist-packages")
import botocore.session
s = botocore.session.get_session().create_client(
    "s3", endpoint_url=os.environ["SY_S3_ENDPOINT"], region_name="us-east-1",
    aws_access_key_id=os.environ["SY_S3_ACCESS_KEY"], aws_secret_access_key=os.environ["SY_S3_SECRET_KEY"])
s.create_bucket(Bucket=os.environ["SY_S3_BUCKET"])
port = 18000 + workers
api = subprocess.Popen([binary, "serve", "--workers", "0", "--listen", f"127.0.0.1:{port}",
                        "--data-dir", f"{state}/api{workers}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1.5)
data = open(song, "rb").read()
ids = []
for i in range(jobs):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/jobs", method="POST",
        data=json.dumps({"filename": f"s{i}.mp3", "size": len(data)}).encode(), headers={"Content-Type": "application/json"})
    j = json.load(urllib.request.urlopen(req))
    up = urllib.request.Request(j["upload"]["url"], method="PUT", data=data, headers=j["upload"]["headers"])
    urllib.request.urlopen(up)
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/jobs/{j['id']}/uploaded", method="POST",
        headers={"Authorization": "Bearer " + j["token"]}, data=b""))
    ids.append((j["id"], j["token"]))
start = time.time()
procs = [subprocess.Popen(["/usr/bin/time", "-f", "%U %S", binary, "worker"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(workers)]
pending = set(i for i, _ in ids)
tokens = dict(ids)
while pending:
    for i in list(pending):
        st = json.load(urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/jobs/{i}", headers={"Authorization": "Bearer " + tokens[i]})))
        if st["status"] in ("done", "failed"):
            pending.discard(i)
    time.sleep(0.2)
elapsed = time.time() - start
cpu = 0.0
for p in procs:
    p.terminate(); _, err = p.communicate()
    cpu += sum(float(x) for x in err.decode().strip().splitlines()[-1].split())
api.terminate(); api.wait()
print(f"workers={workers} jobs={jobs} (5-minute songs) wall={elapsed:.1f}s songs_per_minute={jobs * 60 / elapsed:.2f} worker_cpu_seconds_per_song={cpu / jobs:.1f}")
PY
done
