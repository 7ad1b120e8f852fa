#!/usr/bin/env bash
# A three-node MariaDB Galera cluster on 127.0.0.1 for the scale-out tests, apart from the main
# MariaDB on 3306 (never touched here). Each node has its own data directory under $GALERA_DIR,
# its own SQL port (3311..3313), group-communication port (4571..4573), IST port (4581..4583)
# and SST port (4591..4593). Every process started here is stopped by the PID recorded here.
#
#   scripts/galera-cluster.sh start        fresh cluster: bootstrap node 1, join 2 and 3, wait until whole
#   scripts/galera-cluster.sh stop         stop every node (TERM, then KILL after a bound)
#   scripts/galera-cluster.sh kill N       kill -9 node N (a crash, for the tests)
#   scripts/galera-cluster.sh restart N    start node N again and wait until the cluster is whole
#   scripts/galera-cluster.sh urls         the nodes' URLs, one per line
#   scripts/galera-cluster.sh status       wsrep state of each node
#
# The tests find the nodes through GALERA_URLS (space-separated mysql:// URLs), which .ci/run
# exports after `start`.
set -euo pipefail
# shellcheck source=lib/mariadb-server.sh
source "$(dirname "$0")/lib/mariadb-server.sh"

GALERA_DIR=${GALERA_DIR:-/var/tmp/sessionfactory-galera}
PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
START_TIMEOUT=${GALERA_START_TIMEOUT:-120}
NODES=(1 2 3)

sql_port() { echo $((3310 + $1)); }
gcomm_port() { echo $((4570 + $1)); }
ist_port() { echo $((4580 + $1)); }
sst_port() { echo $((4590 + $1)); }
node_dir() { echo "$GALERA_DIR/node$1"; }
cluster_address() {
  local list=()
  for n in "${NODES[@]}"; do list+=("127.0.0.1:$(gcomm_port "$n")"); done
  (IFS=,; echo "gcomm://${list[*]}")
}

fail() {
  echo "galera-cluster: $*" >&2
  exit 1
}

node_sql() { mariadb_sql "$(node_dir "$1")" "$2"; }
node_pid() { mariadb_pid "$(node_dir "$1")"; }
node_running() { mariadb_running "$(node_dir "$1")"; }

write_config() {
  local n=$1 dir
  dir=$(node_dir "$n")
  {
    mariadb_base_config "$dir" "$(sql_port "$n")"
    cat <<EOF
max_connections=300
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
innodb_log_file_size=48M
wsrep_on=ON
wsrep_provider=$PROVIDER
wsrep_cluster_name=sessionfactory_test
wsrep_cluster_address=$(cluster_address)
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1:$(gcomm_port "$n")
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n");gcache.size=64M"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:$(sst_port "$n")
wsrep_slave_threads=2
EOF
  } >"$dir/my.cnf"
}

# Starts node N's mariadbd in the background and records its PID.
launch() {
  local n=$1
  shift
  mariadb_launch "$(node_dir "$n")" "$@"
}

# Waits until node N is a synced member of a cluster of the given size (bounded).
wait_synced() {
  local n=$1 size=$2 deadline=$((SECONDS + START_TIMEOUT)) state
  while [ $SECONDS -lt $deadline ]; do
    node_running "$n" || { tail -n 30 "$(node_dir "$n")/error.log" >&2 || true; fail "node $n exited during start-up"; }
    state=$(node_sql "$n" "SELECT CONCAT_WS(' ',
        (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='wsrep_ready'),
        (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='wsrep_local_state'),
        (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='wsrep_cluster_size'))" || true)
    [ "$state" = "ON 4 $size" ] && return 0
    sleep 1
  done
  tail -n 30 "$(node_dir "$n")/error.log" >&2 || true
  fail "node $n not synced in a cluster of $size within ${START_TIMEOUT}s (last state: ${state:-none})"
}

stop_node() { mariadb_stop "$(node_dir "$1")"; }

cmd_stop() {
  # Joiners first, the bootstrap node last, so no node waits for a departed donor.
  for n in 3 2 1; do stop_node "$n"; done
}

cmd_start() {
  [ -f "$PROVIDER" ] || fail "no Galera provider at $PROVIDER (install the Debian package galera-4)"
  command -v rsync >/dev/null || fail "rsync is missing (state transfers use wsrep_sst_method=rsync)"
  command -v ss >/dev/null || command -v lsof >/dev/null || fail "rsync state transfers need ss (iproute2) or lsof"
  cmd_stop
  rm -rf "$GALERA_DIR"
  for n in "${NODES[@]}"; do
    mkdir -p "$(node_dir "$n")/data"
    write_config "$n"
  done
  chown -R mysql:mysql "$GALERA_DIR"
  # Only node 1 gets a fresh system database; 2 and 3 receive theirs by state transfer.
  mariadb_install "$(node_dir 1)" || fail "mariadb-install-db failed"
  launch 1 --wsrep-new-cluster
  wait_synced 1 1
  # The tests connect over TCP as root without a password (replicated to the joiners).
  node_sql 1 "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS test" || fail "could not create root@127.0.0.1 on node 1"
  launch 2
  wait_synced 2 2
  launch 3
  wait_synced 3 3
  for n in "${NODES[@]}"; do wait_synced "$n" 3; done
  echo "galera-cluster: 3 nodes synced on ports $(sql_port 1), $(sql_port 2), $(sql_port 3)"
}

cmd_kill() {
  local n=$1 pid
  pid=$(node_pid "$n") || fail "node $n has no PID file"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  rm -f "$(node_dir "$n")/mariadbd.pid"
}

cmd_restart() {
  local n=$1
  node_running "$n" && stop_node "$n"
  # A crashed node rejoins through a state transfer from a live member.
  launch "$n"
  for m in "${NODES[@]}"; do wait_synced "$m" 3; done
}

cmd_urls() {
  for n in "${NODES[@]}"; do echo "mysql://root@127.0.0.1:$(sql_port "$n")/test"; done
}

cmd_status() {
  for n in "${NODES[@]}"; do
    if node_running "$n"; then
      echo "node $n (pid $(node_pid "$n")): $(node_sql "$n" "SELECT GROUP_CONCAT(CONCAT(VARIABLE_NAME,'=',VARIABLE_VALUE) SEPARATOR ' ')
        FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('wsrep_ready','wsrep_local_state','wsrep_cluster_size')" || echo unreachable)"
    else
      echo "node $n: not running"
    fi
  done
}

valid_node() {
  [[ "${1:-}" =~ ^[123]$ ]] || fail "expected a node number 1, 2 or 3, got '${1:-}'"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  kill) valid_node "${2:-}"; cmd_kill "$2" ;;
  restart) valid_node "${2:-}"; cmd_restart "$2" ;;
  urls) cmd_urls ;;
  status) cmd_status ;;
  *) fail "usage: $0 start|stop|kill N|restart N|urls|status" ;;
esac
