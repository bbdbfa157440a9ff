#!/usr/bin/env bash
# stop_rgw.sh STATE_DIR — stops the gateway, OSD and monitor start_rgw.sh started.
set -uo pipefail
state=${1:?usage: stop_rgw.sh STATE_DIR}
[[ -f $state/dir ]] || exit 0
dir=$(cat "$state/dir")
for name in client.rgw osd.0 mon.a; do
  pidfile=$dir/run/$name.pid
  [[ -f $pidfile ]] || continue
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
done
case $dir in /tmp/sy-rgw.*) rm -rf "$dir" ;; esac
rm -f "$state/dir" "$state/env"
echo "stop_rgw: stopped"
