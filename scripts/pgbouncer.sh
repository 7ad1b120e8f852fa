#!/usr/bin/env bash
# PgBouncer in transaction pooling mode on 127.0.0.1:6432, in front of the main Postgres server
# (127.0.0.1:5432), for the conformance suite of @sessionfactory/pg run through a pooler.
#
#   scripts/pgbouncer.sh start   starts it (a previous one of ours is stopped first); prints
#                                PGBOUNCER_URL=... on its last line
#   scripts/pgbouncer.sh stop    stops it by the PID in its pidfile
#
# Two databases: `test` (server pool of 40) and `test_one`, the same database through a single
# server connection, where anything one client leaves on a server connection reaches the next.
#
# Config, logs and pidfile live under $PGBOUNCER_DIR (default /var/tmp/sessionfactory-pgbouncer,
# or /var/tmp/sessionfactory-pgbouncer-<port> for another port, so a second PgBouncer started with
# only PGBOUNCER_PORT set never stops the one on 6432 through a shared pidfile); PGBOUNCER_PORT
# overrides the port (tests that start their own PgBouncer use a free one).
# It runs as the postgres user, trusts every client (loopback only; the server behind trusts
# loopback too) and waits at most START_TIMEOUT seconds (default 20) to come up.
set -euo pipefail

PORT=${PGBOUNCER_PORT:-6432}
if [ "$PORT" = 6432 ]; then DEFAULT_BASE=/var/tmp/sessionfactory-pgbouncer; else DEFAULT_BASE=/var/tmp/sessionfactory-pgbouncer-$PORT; fi
BASE=${PGBOUNCER_DIR:-$DEFAULT_BASE}
START_TIMEOUT=${START_TIMEOUT:-20}
URL="postgres://postgres@127.0.0.1:$PORT/test"

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

stop_bouncer() {
  local pid
  [ -f "$BASE/pgbouncer.pid" ] || return 0
  pid=$(cat "$BASE/pgbouncer.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true # INT: shut down at once, dropping client connections
    for _ in $(seq 1 $((START_TIMEOUT * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$BASE/pgbouncer.pid"
}

start_bouncer() {
  command -v pgbouncer >/dev/null || { echo "pgbouncer.sh: pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }
  stop_bouncer
  mkdir -p "$BASE"
  # Users PgBouncer lets in with auth_type = trust (no passwords); sf_pgb_no_such_role exists
  # only here, so the server itself refuses it (the conformance suite's authentication case).
  printf '"postgres" ""\n"sf_pgb_no_such_role" ""\n' >"$BASE/userlist.txt"
  cat >"$BASE/pgbouncer.ini" <<EOF
[databases]
test_one = host=127.0.0.1 port=5432 dbname=test pool_size=1
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $BASE/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
reserve_pool_size = 0
server_reset_query = DISCARD ALL
server_check_delay = 0
# A failed server login (the suite's wrong-user case) must not hold back the next login for 15 s.
server_login_retry = 0
ignore_startup_parameters = extra_float_digits
logfile = $BASE/pgbouncer.log
pidfile = $BASE/pgbouncer.pid
admin_users = postgres
EOF
  chown -R postgres:postgres "$BASE" 2>/dev/null || true
  as_postgres pgbouncer -d "$BASE/pgbouncer.ini"
  for _ in $(seq 1 $((START_TIMEOUT * 10))); do
    psql "$URL" -tAqX -c 'select 1' >/dev/null 2>&1 && { echo "PGBOUNCER_URL=$URL"; return 0; }
    sleep 0.1
  done
  echo "pgbouncer.sh: PgBouncer did not answer on 127.0.0.1:$PORT within ${START_TIMEOUT}s; its log:" >&2
  tail -n 30 "$BASE/pgbouncer.log" >&2 || true
  stop_bouncer
  exit 1
}

case "${1:-}" in
  start) start_bouncer ;;
  stop) stop_bouncer; rm -rf "$BASE" ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
