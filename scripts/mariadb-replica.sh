#!/usr/bin/env bash
# A MariaDB primary (127.0.0.1:3307, binlog + GTID, server_id=1) and a replica of it
# (127.0.0.1:3308, server_id=2, MASTER_USE_GTID=slave_pos) for the replica tests, apart from the
# main MariaDB on 3306 (never touched here). Data directories under $REPLICA_DIR; every process
# started here is stopped by the PID recorded here.
#
#   scripts/mariadb-replica.sh start    fresh primary and replica, replication running (bounded wait)
#   scripts/mariadb-replica.sh stop     stop both (TERM, then KILL after a bound)
#   scripts/mariadb-replica.sh urls     the primary's URL, then the replica's
#
# The tests find them through MARIADB_PRIMARY_URL and MARIADB_REPLICA_URL, which .ci/run exports.
set -euo pipefail
# shellcheck source=lib/mariadb-server.sh
source "$(dirname "$0")/lib/mariadb-server.sh"

REPLICA_DIR=${REPLICA_DIR:-/var/tmp/sessionfactory-replica}
START_TIMEOUT=${REPLICA_START_TIMEOUT:-60}
PRIMARY_PORT=3307
REPLICA_PORT=3308

fail() {
  echo "mariadb-replica: $*" >&2
  exit 1
}

server_dir() { echo "$REPLICA_DIR/$1"; }
port_of() { if [ "$1" = primary ]; then echo $PRIMARY_PORT; else echo $REPLICA_PORT; fi; }
sql_on() { mariadb_sql "$(server_dir "$1")" "$2"; }

write_config() {
  local name=$1 id=$2 dir
  dir=$(server_dir "$name")
  {
    mariadb_base_config "$dir" "$(port_of "$name")"
    cat <<EOF
server_id=$id
log_bin=$dir/data/binlog
binlog_format=ROW
gtid_strict_mode=ON
log_slave_updates=ON
EOF
  } >"$dir/my.cnf"
}

launch() { mariadb_launch "$(server_dir "$1")"; }
running() { mariadb_running "$(server_dir "$1")"; }

wait_up() {
  local name=$1 deadline=$((SECONDS + START_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    running "$name" || { tail -n 30 "$(server_dir "$name")/error.log" >&2 || true; fail "$name exited during start-up"; }
    [ "$(sql_on "$name" 'SELECT 1' || true)" = 1 ] && return 0
    sleep 0.5
  done
  fail "$name did not answer within ${START_TIMEOUT}s"
}

stop_server() { mariadb_stop "$(server_dir "$1")"; }

cmd_stop() {
  stop_server replica
  stop_server primary
}

cmd_start() {
  cmd_stop
  rm -rf "$REPLICA_DIR"
  local id=1
  for name in primary replica; do
    mkdir -p "$(server_dir "$name")/data"
    write_config "$name" "$id"
    id=$((id + 1))
    mariadb_install "$(server_dir "$name")" || fail "mariadb-install-db failed for $name"
    launch "$name"
  done
  wait_up primary
  wait_up replica
  # The tests connect over TCP as root without a password; the replica copies the primary's
  # binlog from here on (both start empty, so no snapshot is needed).
  sql_on primary "CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl';
    GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
    CREATE DATABASE test" || fail "could not create the users on the primary"
  sql_on replica "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$PRIMARY_PORT, MASTER_USER='repl',
      MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos;
    START SLAVE" || fail "could not start replication on the replica"
  local deadline=$((SECONDS + START_TIMEOUT)) seen=""
  while [ $SECONDS -lt $deadline ]; do
    seen=$(sql_on replica "SELECT COUNT(*) FROM mysql.user WHERE user = 'root' AND host = '127.0.0.1'" || true)
    [ "$seen" = 1 ] && break
    sleep 0.5
  done
  [ "$seen" = 1 ] || { sql_on replica 'SHOW SLAVE STATUS\G' >&2 || true; fail "the replica did not catch up within ${START_TIMEOUT}s"; }
  echo "mariadb-replica: primary on $PRIMARY_PORT, replica on $REPLICA_PORT, replicating"
}

cmd_urls() {
  echo "mysql://root@127.0.0.1:$PRIMARY_PORT/test"
  echo "mysql://root@127.0.0.1:$REPLICA_PORT/test"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  urls) cmd_urls ;;
  *) fail "usage: $0 start|stop|urls" ;;
esac
