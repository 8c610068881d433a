#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks, in a directory of its own.
#   scripts/postgres.sh start DIR   starts one (installing Debian's postgresql when missing) and
#                                   prints its maintenance URL: postgres://juror@127.0.0.1:PORT/postgres
#   scripts/postgres.sh createdb DIR NAME   creates database NAME there and prints its URL
#   scripts/postgres.sh stop DIR    stops it and removes DIR
# It listens on 127.0.0.1 on a free port, trusts local connections (test data only), and runs as
# an unprivileged user: the `postgres` account when this runs as root, else the caller.
set -euo pipefail
action=${1:?usage: scripts/postgres.sh start|createdb|stop DIR}
dir=${2:?usage: scripts/postgres.sh start|createdb|stop DIR}

find_bindir() {
  local candidate
  for candidate in "$(command -v pg_config >/dev/null 2>&1 && pg_config --bindir)" /usr/lib/postgresql/*/bin "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"; do
    if [ -n "$candidate" ] && [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
  start)
    if ! bindir=$(find_bindir); then
      echo "installing PostgreSQL from Debian's packages" >&2
      sudo=""
      if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
      $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
      bindir=$(find_bindir)
    fi
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
      useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bindir/initdb" -D "$dir/data" -U juror --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # Durable commits as in production (fsync on); enough connections for replicas and tests.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c shared_buffers=128MB" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "$bindir" >"$dir/bindir"
    echo "$port" >"$dir/port"
    echo "postgres://juror@127.0.0.1:$port/postgres"
    ;;
  createdb)
    name=${3:?usage: scripts/postgres.sh createdb DIR NAME}
    port=$(cat "$dir/port")
    "$(cat "$dir/bindir")/psql" -q -h 127.0.0.1 -p "$port" -U juror -d postgres -c "CREATE DATABASE $name" >/dev/null
    echo "postgres://juror@127.0.0.1:$port/$name"
    ;;
  stop)
    if [ -f "$dir/bindir" ]; then
      as_owner "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
