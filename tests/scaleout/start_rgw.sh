#!/usr/bin/env bash
# start_rgw.sh STATE_DIR — a throw-away Ceph RADOS Gateway (real S3: signatures, bucket
# notifications) from Debian's packages: one monitor, one memstore OSD, no manager, no cephx.
# Everything lives in a temp dir and in memory. Writes STATE_DIR/env with
#   RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY, RGW_CONF
set -euo pipefail
state=${1:?usage: start_rgw.sh STATE_DIR}
mkdir -p "$state"
here=$(cd "$(dirname "$0")" && pwd)
# A cold start on a loaded machine now and then fails in one of the daemons' first steps:
# run the start-up up to three times, each from scratch, reporting the failing command.
if [[ -z ${SY_RGW_ATTEMPT:-} ]]; then
  for attempt in 1 2 3; do
    SY_RGW_ATTEMPT=$attempt "$0" "$state" && exit 0
    echo "start_rgw: attempt $attempt failed" >&2
    "$here/stop_rgw.sh" "$state" >/dev/null 2>&1 || true
  done
  exit 1
fi
# On failure, name the command and show the daemons' last words (CI keeps only this output).
show_logs() { [[ -n ${dir:-} ]] && tail -n 15 "$dir"/log/*.out "$dir"/log/*.log >&2 2>/dev/null || true; }
trap 'echo "start_rgw: failed at line $LINENO: $BASH_COMMAND" >&2; show_logs' ERR
[[ -f $state/dir ]] && "$here/stop_rgw.sh" "$state" || true
command -v radosgw >/dev/null || { echo "start_rgw: apt-get install --no-install-recommends radosgw ceph-mon ceph-osd" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
dir=$(mktemp -d /tmp/sy-rgw.XXXXXX)
mon_port=$(free_port)
rgw_port=$(free_port)
fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
conf=$dir/ceph.conf
mkdir -p "$dir/mon" "$dir/osd" "$dir/run" "$dir/log"
cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd objectstore = memstore
memstore device bytes = 2147483648
osd crush chooseleaf type = 0
paxos propose interval = 0.05
paxos min wait = 0.01
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
keyring = /dev/null
ms bind msgr2 = false
[mon.a]
mon data = $dir/mon
mon addr = v1:127.0.0.1:$mon_port
[osd.0]
osd data = $dir/osd
osd journal size = 100
# The OSD's own start-up calls to the monitor (device class, CRUSH location) now and then
# raced its monitor session and were refused with "wrong fsid", which ends the OSD (1 start
# in 8 in a network namespace with loopback only; 3 of 3 in one CI run): the script places
# the OSD in the CRUSH map itself, before starting it.
osd class update on start = false
osd crush update on start = false
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
ms mon client mode = crc
rgw dns name = localhost
rgw data = $dir/rgw
rgw enable apis = s3, admin, notifications, sns
rgw thread pool size = 64
[client.admin]
ms mon client mode = crc
CONF
echo "$dir" >"$state/dir"
ceph_() { ceph -c "$conf" --connect-timeout 20 "$@"; }
# A loaded machine can make the first calls to a fresh monitor fail: try a few times, then
# show the logs.
retry() { for _ in 1 2 3 4 5; do "$@" && return 0; sleep 1; done; echo "start_rgw: failed: $*" >&2; show_logs; return 1; }

monmaptool --create --add a "v1:127.0.0.1:$mon_port" --fsid "$fsid" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" >"$dir/log/mkfs-mon.out" 2>&1
ceph-mon -c "$conf" -i a
osd_uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
osd_id=$(retry ceph_ osd new "$osd_uuid")
retry ceph_ osd crush add "osd.$osd_id" 1.0 root=default host=sy-test >/dev/null
ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >"$dir/log/mkfs-osd.out" 2>&1
ceph-osd -c "$conf" -i "$osd_id" 2>>"$dir/log/osd-start.out"
for _ in $(seq 1 100); do
  ceph_ osd stat 2>/dev/null | grep -q "1 up" && break
  sleep 0.2
done
radosgw -c "$conf" -n client.rgw
for _ in $(seq 1 200); do
  curl -s -o /dev/null "http://127.0.0.1:$rgw_port/" && break
  sleep 0.2
done
curl -s -o /dev/null "http://127.0.0.1:$rgw_port/" || { echo "start_rgw: radosgw did not come up" >&2; show_logs; exit 1; }
access=SYTESTACCESSKEY00001
secret=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
retry radosgw-admin -c "$conf" user create --uid sy-test --display-name "SurroundYou tests" \
  --access-key "$access" --secret-key "$secret" >/dev/null
cat >"$state/env" <<ENV
RGW_ENDPOINT=http://127.0.0.1:$rgw_port
RGW_ACCESS_KEY=$access
RGW_SECRET_KEY=$secret
RGW_CONF=$conf
ENV
echo "start_rgw: http://127.0.0.1:$rgw_port (data in memory, files in $dir)"
