#!/usr/bin/env bash
# stop_pg.sh STATE_DIR — stops the server start_pg.sh started and removes its files.
set -uo pipefail
state=${1:?usage: stop_pg.sh STATE_DIR}
[[ -f $state/datadir ]] || exit 0
dir=$(cat "$state/datadir")
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
as_pg=()
[[ $(id -u) -eq 0 ]] && as_pg=(runuser -u postgres --)
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/db" -m immediate -w stop >/dev/null 2>&1
case $dir in /tmp/sy-pg.*) rm -rf "$dir" ;; esac
rm -f "$state/datadir" "$state/url"
echo "stop_pg: stopped"
