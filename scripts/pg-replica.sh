#!/usr/bin/env bash
# A streaming replica of the local Postgres (127.0.0.1:5432) on 127.0.0.1:5433, for the
# read-replica tests (packages/pg/test/replicas.test.ts).
#
#   scripts/pg-replica.sh start   # pg_basebackup into a fresh data dir, start it, wait until it
#                                 # accepts connections in recovery; prints PG_REPLICA_URL=...
#   scripts/pg-replica.sh stop    # stops the server this script started (by its PID), removes the dir
#
# The replica runs as the postgres user from a plain data directory under /var/tmp (no
# pg_createcluster: nothing is registered with the system). The main server is never restarted:
# if its pg_hba.conf lacks a replication entry for 127.0.0.1, one (trust, loopback only) is
# added and the server is reloaded. Start-up is bounded (base backup 120 s, start 60 s).
set -euo pipefail

PORT=${PG_REPLICA_PORT:-5433}
DIR=${PG_REPLICA_DIR:-/var/tmp/sessionfactory-pg-replica}
PRIMARY_PORT=5432
DATA=$DIR/data
PIDFILE=$DIR/postmaster.pid.copy

version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
[ -n "$version" ] || { echo "pg-replica: no Postgres installation under /etc/postgresql" >&2; exit 1; }
BIN=/usr/lib/postgresql/$version/bin
HBA=/etc/postgresql/$version/main/pg_hba.conf

as_postgres() { runuser -u postgres -- "$@"; }
primary_psql() { psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d postgres -tAc "$1"; }

url() { echo "postgres://postgres@127.0.0.1:$PORT/test"; }

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid=$(head -n 1 "$PIDFILE")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  if running_pid >/dev/null && pg_isready -q -h 127.0.0.1 -p "$PORT"; then
    echo "PG_REPLICA_URL=$(url)"
    return 0
  fi
  if pg_isready -q -h 127.0.0.1 -p "$PORT"; then
    echo "pg-replica: something else already listens on 127.0.0.1:$PORT; set PG_REPLICA_PORT" >&2
    exit 1
  fi
  pg_isready -q -h 127.0.0.1 -p "$PRIMARY_PORT" ||
    { echo "pg-replica: the primary is not reachable on 127.0.0.1:$PRIMARY_PORT" >&2; exit 1; }

  # The base backup and the walreceiver connect with the replication protocol.
  if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$HBA"; then
    sed -i '1i host replication all 127.0.0.1/32 trust' "$HBA"
    primary_psql 'select pg_reload_conf()' >/dev/null
    sleep 1
  fi

  rm -rf "$DIR"
  mkdir -p "$DIR"
  chown postgres:postgres "$DIR"
  chmod 700 "$DIR"
  timeout 120 runuser -u postgres -- "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres \
    -D "$DATA" -R -X stream --checkpoint=fast --no-sync ||
    { echo "pg-replica: pg_basebackup failed or took over 120 s" >&2; exit 1; }

  # Debian keeps postgresql.conf and pg_hba.conf in /etc, so the copy has none: write them.
  # A hot standby needs these limits at least as high as the primary's.
  local limits=""
  for setting in max_connections max_worker_processes max_wal_senders max_prepared_transactions \
    max_locks_per_transaction; do
    limits+="$setting = $(primary_psql "show $setting")"$'\n'
  done
  as_postgres tee "$DATA/postgresql.conf" >/dev/null <<EOF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
hot_standby = on
shared_buffers = 32MB
fsync = off
logging_collector = off
$limits
EOF
  as_postgres tee "$DATA/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  rm -f "$DATA/postmaster.pid" "$DATA/postmaster.opts"

  as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start >/dev/null ||
    { echo "pg-replica: the replica did not start within 60 s; log:" >&2; tail -n 30 "$DIR/server.log" >&2; exit 1; }
  head -n 1 "$DATA/postmaster.pid" >"$PIDFILE"

  local ready=""
  for _ in $(seq 1 60); do
    if [ "$(psql -h 127.0.0.1 -p "$PORT" -U postgres -d test -tAc 'select pg_is_in_recovery()' 2>/dev/null)" = t ]; then
      ready=1
      break
    fi
    sleep 1
  done
  [ -n "$ready" ] || { echo "pg-replica: the replica is not serving reads in recovery after 60 s" >&2; stop; exit 1; }
  echo "PG_REPLICA_URL=$(url)"
}

stop() {
  local pid
  if pid=$(running_pid); then
    as_postgres "$BIN/pg_ctl" -D "$DATA" -m fast -t 30 stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
