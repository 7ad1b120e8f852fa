#!/usr/bin/env bash
# A throwaway Postgres primary (127.0.0.1:5434) and its streaming standby (127.0.0.1:5435) for the
# failover test of @sessionfactory/pg. Never touches the main server on 5432.
#
#   scripts/pg-failover-cluster.sh start          fresh cluster (an old one is stopped and wiped first);
#                                                 prints PG_FAILOVER_URLS=... on its last line
#   scripts/pg-failover-cluster.sh stop           stops both servers by PID, removes the data
#   scripts/pg-failover-cluster.sh stop-primary   the failure: stops the primary at once (immediate)
#   scripts/pg-failover-cluster.sh promote        promotes the standby; returns when it takes writes
#
# Data, sockets and logs live under $PG_FAILOVER_DIR (default /var/tmp/sessionfactory-pg-failover).
# Servers run as the postgres user with the binaries of $PG_BIN (default /usr/lib/postgresql/15/bin).
# Every wait is bounded (START_TIMEOUT seconds, default 30).
set -euo pipefail

BASE=${PG_FAILOVER_DIR:-/var/tmp/sessionfactory-pg-failover}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PRIMARY_PORT=5434
STANDBY_PORT=5435
START_TIMEOUT=${START_TIMEOUT:-30}
URLS="postgres://postgres@127.0.0.1:$PRIMARY_PORT,127.0.0.1:$STANDBY_PORT/test"

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

psql_at() {
  local port=$1
  shift
  psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAqX -c "$@"
}

# Stops the server whose data directory is $1, by the PID in its postmaster.pid: SIGQUIT
# (immediate shutdown), then SIGKILL if it is still there after the timeout.
stop_server() {
  local dir=$1 pid
  [ -f "$dir/postmaster.pid" ] || return 0
  pid=$(head -n 1 "$dir/postmaster.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((START_TIMEOUT * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$dir/postmaster.pid"
}

start_server() {
  local dir=$1 name=$2
  as_postgres "$PG_BIN/pg_ctl" -D "$dir" -l "$BASE/$name.log" -w -t "$START_TIMEOUT" start >/dev/null ||
    { echo "pg-failover-cluster: the $name did not start within ${START_TIMEOUT}s; its log:" >&2; tail -n 30 "$BASE/$name.log" >&2; exit 1; }
}

# Waits until `query` on `port` prints `expected`.
wait_for() {
  local port=$1 query=$2 expected=$3 what=$4
  for _ in $(seq 1 $((START_TIMEOUT * 10))); do
    [ "$(psql_at "$port" "$query" 2>/dev/null || true)" = "$expected" ] && return 0
    sleep 0.1
  done
  echo "pg-failover-cluster: $what not reached within ${START_TIMEOUT}s" >&2
  exit 1
}

stop_all() {
  stop_server "$BASE/standby"
  stop_server "$BASE/primary"
  rm -rf "$BASE"
}

start_all() {
  [ -x "$PG_BIN/initdb" ] || { echo "pg-failover-cluster: no initdb in $PG_BIN (install postgresql)" >&2; exit 1; }
  stop_all
  mkdir -p "$BASE"
  chown postgres:postgres "$BASE" 2>/dev/null || true
  chmod 700 "$BASE"
  as_postgres "$PG_BIN/initdb" -D "$BASE/primary" -U postgres --auth=trust -E UTF8 --no-instructions >"$BASE/initdb.log"
  cat >>"$BASE/primary/postgresql.conf" <<EOF
port = $PRIMARY_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$BASE'
wal_level = replica
max_wal_senders = 5
hot_standby = on
fsync = off
full_page_writes = off
synchronous_commit = off
shared_buffers = 16MB
max_connections = 50
EOF
  cat >"$BASE/primary/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
local replication all trust
EOF
  start_server "$BASE/primary" primary
  psql_at "$PRIMARY_PORT" 'CREATE DATABASE test' >/dev/null
  # The standby: a base backup of the primary that streams from it (-R writes standby.signal).
  as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$BASE/standby" -R -X stream -c fast
  echo "port = $STANDBY_PORT" >>"$BASE/standby/postgresql.conf"
  start_server "$BASE/standby" standby
  wait_for "$STANDBY_PORT" 'SELECT pg_is_in_recovery()' t 'the standby in recovery'
  wait_for "$PRIMARY_PORT" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 1 'streaming replication'
  echo "PG_FAILOVER_URLS=$URLS"
}

case "${1:-}" in
  start) start_all ;;
  stop) stop_all ;;
  stop-primary) stop_server "$BASE/primary" ;;
  promote)
    as_postgres "$PG_BIN/pg_ctl" -D "$BASE/standby" -w -t "$START_TIMEOUT" promote >/dev/null
    wait_for "$STANDBY_PORT" 'SELECT pg_is_in_recovery()' f 'the promotion of the standby'
    ;;
  *)
    echo "usage: $0 start|stop|stop-primary|promote" >&2
    exit 2
    ;;
esac
