#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the tests, as an unprivileged user,
# on a free port on 127.0.0.1, and prints its URL on stdout.
#
#   url=$(scripts/postgres.sh start DIR)   # DIR holds the cluster; the URL names database "quorum"
#   scripts/postgres.sh stop DIR
#
# Needs Debian's postgresql package (scripts/setup.sh installs it). The cluster
# trusts local connections (it listens on 127.0.0.1 only and lives as long as
# the test run).
set -euo pipefail

command=${1:-}
dir=${2:-}
if [ -z "$command" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

bin=""
for candidate in /usr/lib/postgresql/*/bin; do
  if [ -x "$candidate/pg_ctl" ]; then bin="$candidate"; fi
done
if [ -z "$bin" ]; then
  echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi

# The server refuses to run as root: use the postgres account when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres quorum
    echo "postgresql://postgres@127.0.0.1:$port/quorum"
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
