#!/usr/bin/env bash
# A private MariaDB 10.11 for tests and local runs: its own data dir under the run dir, its own port on
# 127.0.0.1 and socket, and a binary log in the form CDC needs (ROW format, FULL row image, FULL row
# metadata). A user migrate/migrate has every privilege, replication included.
#
#   scenarios/servers/mariadb.sh start    # installs mariadb-server if missing, inits once, starts; prints URL
#   scenarios/servers/mariadb.sh env      # export MIGRATE_MYSQL_URL=...
#   scenarios/servers/mariadb.sh stop
#
# Environment: MIGRATE_RUN_DIR (default <repo>/.run), MIGRATE_MYSQL_PORT (default 53306, or the next free
# port when 53306 is taken and no port was asked for). MIGRATE_MYSQL_TLS=1 at start: a server that
# accepts TCP connections over TLS only (require_secure_transport; a test CA, a server certificate
# for 127.0.0.1 and localhost and a client certificate for migrate_cert, made with openssl under the
# state dir's tls/); its URL then asks for
# ssl-mode=VERIFY_IDENTITY against that CA. Give it a run dir of its own. See README.md beside this file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEFAULT_PORT=53306
RUN=$(run_dir)
DIR= # state dir (data, socket, log, pid); set by locate()
DATA=
SOCK=
LOG=
PIDFILE=

url() {
	if [ -f "$DIR/tls.on" ]; then
		echo "mysql://migrate:migrate@127.0.0.1:$1/?ssl-mode=VERIFY_IDENTITY&ssl-ca=$DIR/tls/ca.crt"
	else
		echo "mysql://migrate:migrate@127.0.0.1:$1/"
	fi
}

# Sets the paths of the server's files inside state dir $1 (default: RUN/mariadb, followed if a link).
locate() {
	local d=${1:-$RUN/mariadb}
	[ -L "$d" ] && d=$(readlink -f "$d")
	DIR=$d
	DATA=$DIR/data
	SOCK=$DIR/mysqld.sock
	LOG=$DIR/mariadb.log
	PIDFILE=$DIR/mariadbd.pid
}

# Debian puts the server in /usr/sbin, which a normal user's PATH may lack.
find_bin() {
	command -v "$1" 2>/dev/null && return 0
	[ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1" && return 0
	[ -x "/usr/bin/$1" ] && echo "/usr/bin/$1" && return 0
	return 1
}

live_pid() {
	local pid
	[ -f "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE")
	[ -n "$pid" ] && process_alive "$pid" mariadbd || return 1
	echo "$pid"
}

gone() { ! process_alive "$1" mariadbd; }

live_port() { cat "$DIR/port"; }

# As root through the socket (root@localhost has an empty password: see init_db). `ping` succeeds
# as soon as the server answers, even before the migrate user exists.
admin() { "$(find_bin mariadb-admin)" --no-defaults --socket="$SOCK" -uroot "$@"; }
ready() { admin --connect-timeout=2 ping && port_in_use "$1"; }
root_sql() { "$(find_bin mariadb)" --no-defaults --socket="$SOCK" -uroot --batch; }

ensure_installed() {
	find_bin mariadbd >/dev/null && find_bin mariadb-install-db >/dev/null && return 0
	apt_install mariadb-server
	find_bin mariadbd >/dev/null || die "mariadb-server is installed but mariadbd was not found"
}

# mariadb-install-db into a scratch dir renamed into place, so an interrupted init never leaves a
# half-made data dir. --no-defaults everywhere: the machine's /etc/mysql config must not leak in.
init_db() {
	local owner=$1 tmp=$DIR/data.init user_opt=()
	[ -z "$owner" ] || user_opt=(--user="$owner")
	rm -rf "$tmp"
	log "initialising a new data dir in $DATA"
	# root@localhost gets an empty password ("normal" auth) instead of unix_socket auth, so that any OS
	# user running these scripts can administer the server through the socket.
	"$(find_bin mariadb-install-db)" --no-defaults --datadir="$tmp" "${user_opt[@]}" \
		--auth-root-authentication-method=normal --skip-test-db \
		>"$DIR/install-db.log" 2>&1 9>&- || {
		show_log "$DIR/install-db.log"
		die "mariadb-install-db failed"
	}
	mv "$tmp" "$DATA"
}

cmd_start() {
	take_lock "$RUN/mariadb.lock"
	locate
	local pid port
	if pid=$(live_pid); then
		port=$(live_port)
		wait_until 60 ready "$port" || die "server (pid $pid, port $port) runs but does not answer; see $LOG"
		log "already running (pid $pid)"
		url "$port"
		return 0
	fi
	ensure_installed
	local owner
	owner=$(service_user mysql)
	locate "$(state_dir mariadb "$owner" mysqld.sock)"
	mkdir -p "$DIR/tmp"
	touch "$LOG"
	[ -z "$owner" ] || chown "$owner:" "$DIR" "$DIR/tmp" "$LOG"
	[ -d "$DATA/mysql" ] || { rm -rf "$DATA" && init_db "$owner"; }
	if [ -n "$owner" ] && [ "$(stat -c %U "$DATA")" != "$owner" ]; then chown -R "$owner:" "$DATA"; fi
	# A pid file or socket left by a server that died would make the new one refuse to start.
	rm -f "$PIDFILE" "$SOCK" "$SOCK.lock"

	port=$(pick_port "${MIGRATE_MYSQL_PORT:-}" "$DEFAULT_PORT")
	log "starting MariaDB on 127.0.0.1:$port (data $DATA, log $LOG)"
	local opts=(
		--no-defaults # must come first: ignore /etc/mysql and ~/.my.cnf
		--datadir="$DATA" --tmpdir="$DIR/tmp" --pid-file="$PIDFILE" --log-error="$LOG"
		--port="$port" --bind-address=127.0.0.1 --socket="$SOCK"
		--skip-name-resolve # no DNS here; 'migrate'@'%' matches 127.0.0.1
		# Binary log as CDC needs it. A fixed basename: the default derives it from the host name,
		# which changes between machines and would orphan the existing binlog index.
		--log-bin=mariadb-bin --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL
		--server-id=1 --binlog-expire-logs-seconds=604800
		# Deterministic test results on any machine: UTF-8 by default, UTC sessions.
		--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci --default-time-zone=+00:00
		--max-connections=200
		# A throwaway test server: don't flush the redo log at every commit (crash of the server process
		# is still safe; only an OS crash could lose the last second).
		--innodb-flush-log-at-trx-commit=2
	)
	[ -z "$owner" ] || opts+=(--user="$owner") # mariadbd drops root privileges itself
	if [ -n "${MIGRATE_MYSQL_TLS:-}" ]; then
		make_test_certificates "$DIR/tls" "$owner"
		# TCP over TLS only; the socket (our admin connections) counts as secure.
		opts+=(--ssl-ca="$DIR/tls/ca.crt" --ssl-cert="$DIR/tls/server.crt" --ssl-key="$DIR/tls/server.key"
			--require-secure-transport=ON)
		touch "$DIR/tls.on"
	else
		rm -f "$DIR/tls.on"
	fi
	# setsid: the server must outlive this script and not get the terminal's Ctrl-C; all its output goes
	# to the log (never to our stdout, which callers capture); 9>&-: it must not inherit our lock.
	setsid "$(find_bin mariadbd)" "${opts[@]}" </dev/null >>"$LOG" 2>&1 9>&- &
	local child=$!
	echo "$port" >"$DIR/port"
	local deadline=$((SECONDS + 90))
	until ready "$port" >/dev/null 2>&1; do
		# By state, not name: a child that died is a zombie until this script exits, and until
		# setsid has exec'd the server, our child is still named mariadb.sh or setsid.
		if ! process_alive "$child"; then
			show_log "$LOG"
			die "mariadbd exited during start-up"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			show_log "$LOG"
			kill -TERM "$child" 2>/dev/null || true
			die "MariaDB did not answer within 90 s"
		fi
		sleep 0.2
	done
	# Idempotent, so it runs at every start: the test user, from TCP (%) and the socket (localhost).
	# ALL PRIVILEGES on *.* includes REPLICATION SLAVE and REPLICATION CLIENT (binlog streaming,
	# SHOW BINLOG STATUS); MariaDB rejects naming them next to ALL.
	if ! root_sql >&2 <<'SQL'; then
CREATE USER IF NOT EXISTS 'migrate'@'%' IDENTIFIED BY 'migrate';
CREATE USER IF NOT EXISTS 'migrate'@'localhost' IDENTIFIED BY 'migrate';
GRANT ALL PRIVILEGES ON *.* TO 'migrate'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'migrate'@'localhost' WITH GRANT OPTION;
SQL
		# Don't leave a server behind that a later `start` would take as ready.
		kill -TERM "$child" 2>/dev/null || true
		die "could not create the migrate user; server stopped"
	fi
	log "ready"
	url "$port"
}

cmd_stop() {
	take_lock "$RUN/mariadb.lock"
	locate
	local pid
	if ! pid=$(live_pid); then
		# Never started, stopped already, or died: nothing runs, which is what stop wants.
		if [ -f "$PIDFILE" ]; then
			rm -f "$PIDFILE" "$SOCK" "$SOCK.lock"
			log "removed a stale pid file"
		fi
		log "not running"
		return 0
	fi
	log "stopping MariaDB (pid $pid)"
	# SIGTERM is mariadbd's clean shutdown (same as `mariadb-admin shutdown`, without needing a login).
	kill -TERM "$pid" 2>/dev/null || die "cannot signal pid $pid (started by another user? try as root)"
	if wait_until 60 gone "$pid"; then
		return 0
	fi
	log "no clean shutdown within 60 s; killing"
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$PIDFILE" "$SOCK" "$SOCK.lock"
}

running_url() {
	locate
	local pid port
	if pid=$(live_pid); then
		port=$(live_port)
		if ready "$port" >/dev/null 2>&1; then
			url "$port"
			return 0
		fi
		log "process $pid exists but does not answer on port $port"
	else
		log "not running"
	fi
	return 3
}

cmd_status() {
	take_lock "$RUN/mariadb.lock"
	local u
	u=$(running_url) || exit 3
	log "running"
	echo "$u"
}

cmd_env() {
	take_lock "$RUN/mariadb.lock"
	local u
	u=$(running_url) || {
		log "start it first: $0 start"
		exit 3
	}
	locate
	# The TLS server's URL has an `&`: quoted.
	if [ -f "$DIR/tls.on" ]; then
		echo "export MIGRATE_MYSQL_TLS_URL='$u'"
	else
		echo "export MIGRATE_MYSQL_URL='$u'"
	fi
}

case "${1:-}" in
install)
	take_lock "$RUN/mariadb.lock"
	ensure_installed
	;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
*) usage ;;
esac
