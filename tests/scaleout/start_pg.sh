#!/usr/bin/env bash
# start_pg.sh STATE_DIR — a throw-away PostgreSQL from Debian's packages for the tests:
# initdb in a temp dir, listening on a free loopback port and a unix socket in that dir.
# Writes STATE_DIR/url (a libpq URI) and STATE_DIR/datadir. As root it runs the server as the
# `postgres` system user (PostgreSQL refuses to run as root).
set -euo pipefail
state=${1:?usage: start_pg.sh STATE_DIR}
mkdir -p "$state"
if [[ -f $state/datadir ]]; then "$(dirname "$0")/stop_pg.sh" "$state" || true; fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
[[ -x $bin/initdb ]] || { echo "start_pg: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
dir=$(mktemp -d /tmp/sy-pg.XXXXXX)
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$bin/initdb" -D "$dir/db" -U sy --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# Durability of the test database itself is not under test: skip fsync for speed.
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/db" -l "$dir/server.log" -w -t 30 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
echo "$dir" >"$state/datadir"
echo "postgresql://sy@127.0.0.1:$port/postgres" >"$state/url"
echo "start_pg: $(cat "$state/url") (data in $dir)"
