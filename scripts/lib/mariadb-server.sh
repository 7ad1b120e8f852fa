# Shared by scripts/galera-cluster.sh and scripts/mariadb-replica.sh: one throwaway mariadbd
# in a directory of its own (my.cnf, data/, socket, error log, PID file), started in the
# background and stopped by the PID recorded here. Source it; every function takes that
# directory first.

# The [mysqld] lines every server here shares; the caller appends its own.
mariadb_base_config() {
  local dir=$1 port=$2
  cat <<CONF
[mysqld]
user=mysql
datadir=$dir/data
socket=$dir/mysqld.sock
pid-file=$dir/mysqld.server.pid
port=$port
bind-address=127.0.0.1
log-error=$dir/error.log
skip-name-resolve
performance_schema=OFF
innodb_buffer_pool_size=64M
innodb_flush_log_at_trx_commit=2
CONF
}

# A fresh system database, root reachable through the socket only (the caller adds TCP users).
mariadb_install() {
  local dir=$1
  chown -R mysql:mysql "$dir"
  mariadb-install-db --defaults-file="$dir/my.cnf" --user=mysql --auth-root-authentication-method=socket \
    --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; return 1; }
}

# Starts mariadbd in the background (extra arguments passed on) and records its PID.
mariadb_launch() {
  local dir=$1
  shift
  chown -R mysql:mysql "$dir"
  setsid /usr/sbin/mariadbd --defaults-file="$dir/my.cnf" "$@" >>"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/mariadbd.pid"
}

# The recorded PID, if there is one.
mariadb_pid() {
  [ -f "$1/mariadbd.pid" ] && cat "$1/mariadbd.pid"
}

mariadb_running() {
  local pid
  pid=$(mariadb_pid "$1") || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# A query through the socket as the OS root (unix_socket authentication); tab-separated rows.
mariadb_sql() {
  mysql --no-defaults -uroot -S "$1/mysqld.sock" --connect-timeout=2 -NBe "$2" 2>/dev/null
}

# TERM, then KILL after a bound; forgets the PID.
mariadb_stop() {
  local dir=$1 pid
  pid=$(mariadb_pid "$dir") || return 0
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$dir/mariadbd.pid"
}
