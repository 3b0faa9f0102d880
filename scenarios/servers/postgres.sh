#!/usr/bin/env bash
# A private PostgreSQL 15 for tests and local runs: its own data dir under the run dir, its own port on
# 127.0.0.1, trust auth, and logical decoding enabled (wal_level=logical) so CDC tests can create slots.
#
#   scenarios/servers/postgres.sh start    # installs postgresql-15 if missing, inits once, starts; prints URL
#   scenarios/servers/postgres.sh env      # export MIGRATE_PG_URL=...
#   scenarios/servers/postgres.sh stop
#
# Environment: MIGRATE_RUN_DIR (default <repo>/.run), MIGRATE_PG_PORT (default 55432, or the next free
# port when 55432 is taken and no port was asked for), MIGRATE_PG_BIN (default /usr/lib/postgresql/15/bin).
# MIGRATE_PG_TLS=1 at start: a server that accepts TCP connections over TLS only (a test CA, a server
# certificate for 127.0.0.1 and localhost and a client certificate for the role migrate_cert, which must
# log in with it, made with openssl under the state dir's tls/); its URL then
# asks for sslmode=verify-full against that CA. Give it a run dir of its own
# (MIGRATE_RUN_DIR=.run/pg-tls MIGRATE_PG_TLS=1 scenarios/servers/postgres.sh start).
# See README.md beside this file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_BIN=${MIGRATE_PG_BIN:-/usr/lib/postgresql/15/bin}
DEFAULT_PORT=55432
RUN=$(run_dir)
DIR= # state dir (data, socket, log); set by locate()
DATA=
LOG=
OWNER= # OS user the server runs as when we are root; empty when we run it as ourselves

url() {
	if grep -q '^ssl = on' "$DATA/migrate.conf" 2>/dev/null; then
		echo "postgres://postgres@127.0.0.1:$1/postgres?sslmode=verify-full&sslrootcert=$DIR/tls/ca.crt"
	else
		echo "postgres://postgres@127.0.0.1:$1/postgres"
	fi
}

# Finds the state dir of an existing server without creating anything (for stop/status/env).
locate() {
	DIR=$RUN/postgres
	[ -L "$DIR" ] && DIR=$(readlink -f "$DIR")
	DATA=$DIR/data
	LOG=$DIR/postgres.log
	OWNER=
	if is_root && [ -d "$DATA" ]; then
		OWNER=$(stat -c %U "$DATA")
		[ "$OWNER" = root ] && OWNER=
	fi
	return 0
}

# The postmaster's PID when it is alive. Checked by process name, because a stale pid file may name a
# PID the kernel has since given to another process, and by state, because a killed postmaster stays a
# zombie until PID 1 reaps it (slow in some containers).
live_pid() {
	local pid
	[ -f "$DATA/postmaster.pid" ] || return 1
	pid=$(head -n 1 "$DATA/postmaster.pid")
	[ -n "$pid" ] && process_alive "$pid" postgres || return 1
	echo "$pid"
}

# Line 4 of postmaster.pid is the port the running server listens on.
live_port() { sed -n 4p "$DATA/postmaster.pid"; }

ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U postgres -d postgres -t 2; }

ensure_installed() {
	[ -x "$PG_BIN/postgres" ] && return 0
	[ -z "${MIGRATE_PG_BIN:-}" ] || die "MIGRATE_PG_BIN=$PG_BIN has no postgres binary"
	apt_install postgresql-15
	[ -x "$PG_BIN/postgres" ] || die "postgresql-15 is installed but $PG_BIN/postgres is missing"
}

# initdb into a scratch dir and rename it into place, so an interrupted init never leaves a half-made
# data dir that a later start would trip over.
init_cluster() {
	local tmp=$DIR/data.init
	rm -rf "$tmp"
	log "initialising a new cluster in $DATA"
	# Superuser `postgres`, trust for everything: this server only listens on 127.0.0.1 and its socket.
	as_user "$OWNER" "$PG_BIN/initdb" -D "$tmp" -U postgres --auth=trust --encoding=UTF8 --locale=C \
		--no-instructions >"$DIR/initdb.log" 2>&1 9>&- || {
		show_log "$DIR/initdb.log"
		die "initdb failed"
	}
	# Our settings live in migrate.conf, rewritten at every start (write_config).
	printf "\n# Settings of scenarios/servers/postgres.sh, rewritten at each start:\ninclude 'migrate.conf'\n" \
		>>"$tmp/postgresql.conf"
	mv "$tmp" "$DATA"
}

# Written at every start, so a data dir made by an older version of this script gets today's settings,
# and the port / socket dir follow MIGRATE_PG_PORT / the run dir.
write_config() {
	local port=$1
	cat >"$DATA/migrate.conf" <<EOF
# Written by scenarios/servers/postgres.sh at each start: edit the script, not this file.
port = $port
listen_addresses = '127.0.0.1'        # loopback only
unix_socket_directories = '$DIR'
wal_level = logical                   # logical decoding for CDC tests
# A test that fails keeps its databases (and so its slot) for a look afterwards: room for many, and
# a cap on the WAL they hold, so that left-behind slots can neither refuse later tests their slot
# nor fill the disk.
max_replication_slots = 64
max_wal_senders = 64
max_slot_wal_keep_size = 4GB
max_connections = 200                 # parallel test binaries each open a few connections
max_prepared_transactions = 50        # replicate --apply-connections N commits batches in two phases
timezone = 'UTC'                      # the same results on every machine
log_timezone = 'UTC'
# A throwaway test server: skipping fsync makes CREATE DATABASE and commits much faster. A crash of
# the server process (kill -9) still recovers; only an OS crash could lose data.
fsync = off
full_page_writes = off
EOF
	if [ -n "${MIGRATE_PG_TLS:-}" ]; then
		cat >>"$DATA/migrate.conf" <<EOF
ssl = on
ssl_cert_file = '$DIR/tls/server.crt'
ssl_key_file = '$DIR/tls/server.key'
ssl_ca_file = '$DIR/tls/ca.crt'       # client certificates (the role migrate_cert)
EOF
		# TCP over TLS only: a client that does not encrypt finds no matching line and is refused.
		cat >"$DATA/pg_hba.conf" <<'EOF'
# Written by scenarios/servers/postgres.sh at each start (MIGRATE_PG_TLS=1): TCP over TLS only.
# TYPE     DATABASE     USER          ADDRESS       METHOD
local      all          all                         trust
# The role migrate_cert (made by the tests that use it) logs in with the client certificate
# tls/client.crt only.
hostssl    all          migrate_cert  127.0.0.1/32  cert
hostssl    all          all           127.0.0.1/32  trust
hostssl    all          all           ::1/128       trust
local      replication  all                         trust
hostssl    replication  all           127.0.0.1/32  trust
hostssl    replication  all           ::1/128       trust
EOF
		[ -z "$OWNER" ] || chown "$OWNER:" "$DATA/migrate.conf" "$DATA/pg_hba.conf"
		return 0
	fi
	# Logical replication connections (pgoutput, pg_recvlogical) are matched against the *database*
	# lines, physical ones (pg_basebackup) against the `replication` lines: allow both.
	cat >"$DATA/pg_hba.conf" <<'EOF'
# Written by scenarios/servers/postgres.sh at each start: a local test server, trust everything local.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
host    all          all   ::1/128       trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
host    replication  all   ::1/128       trust
EOF
	[ -z "$OWNER" ] || chown "$OWNER:" "$DATA/migrate.conf" "$DATA/pg_hba.conf"
}

cmd_start() {
	take_lock "$RUN/postgres.lock"
	locate
	local pid port
	if pid=$(live_pid); then
		port=$(live_port)
		# Started by an earlier call: wait briefly in case it is still recovering after a crash.
		wait_until 60 ready "$port" || die "server (pid $pid, port $port) runs but does not accept connections; see $LOG"
		log "already running (pid $pid)"
		url "$port"
		return 0
	fi
	ensure_installed
	OWNER=$(service_user postgres)
	DIR=$(state_dir postgres "$OWNER" ".s.PGSQL.$DEFAULT_PORT")
	DATA=$DIR/data
	LOG=$DIR/postgres.log
	[ -z "$OWNER" ] || chown "$OWNER:" "$DIR"
	[ -f "$DATA/PG_VERSION" ] || { rm -rf "$DATA" && init_cluster; }
	if [ -n "$OWNER" ] && [ "$(stat -c %U "$DATA")" != "$OWNER" ]; then chown -R "$OWNER:" "$DATA"; fi

	port=$(pick_port "${MIGRATE_PG_PORT:-}" "$DEFAULT_PORT")
	[ -z "${MIGRATE_PG_TLS:-}" ] || make_test_certificates "$DIR/tls" "$OWNER"
	write_config "$port"
	log "starting PostgreSQL on 127.0.0.1:$port (data $DATA, log $LOG)"
	# pg_ctl -w returns once the server accepts connections; it refuses to run as root, hence as_user.
	# 9>&- : the server must not inherit our lock. Its output goes to the log, never to our stdout.
	local attempt
	for attempt in 1 2 3; do
		as_user "$OWNER" "$PG_BIN/pg_ctl" start -D "$DATA" -l "$LOG" -w -t 90 -s \
			</dev/null >&2 9>&- && break
		# After a postmaster was killed, its backends linger a moment attached to the old shared
		# memory and the new postmaster refuses to start ("pre-existing shared memory block is still
		# in use"): give them a moment to exit and try again.
		[ "$attempt" -lt 3 ] || {
			show_log "$LOG"
			die "PostgreSQL did not start"
		}
		log "start failed (attempt $attempt); retrying in 2 s"
		sleep 2
	done
	wait_until 30 ready "$port" || {
		show_log "$LOG"
		die "PostgreSQL started but pg_isready fails on port $port"
	}
	log "ready"
	url "$port"
}

cmd_stop() {
	take_lock "$RUN/postgres.lock"
	locate
	local pid
	if ! pid=$(live_pid); then
		# Never started, stopped already, or the process died: nothing runs, so that is a success.
		# A stale pid file would be handled by the next start anyway; remove it for a clean state.
		[ -f "$DATA/postmaster.pid" ] && rm -f "$DATA/postmaster.pid" && log "removed a stale pid file"
		log "not running"
		return 0
	fi
	log "stopping PostgreSQL (pid $pid)"
	# Fast: roll back open transactions and disconnect clients, then a clean shutdown checkpoint.
	as_user "$OWNER" "$PG_BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 -s >&2 9>&- && return 0
	log "fast shutdown did not finish; trying immediate"
	as_user "$OWNER" "$PG_BIN/pg_ctl" stop -D "$DATA" -m immediate -w -t 30 -s >&2 9>&- && return 0
	kill -KILL "$pid" 2>/dev/null || die "cannot stop pid $pid (started by another user? try as root)"
	log "killed pid $pid"
}

# Prints the URL and exits 0 when the server is up and accepting connections, else exits 3.
running_url() {
	locate
	local pid port
	if pid=$(live_pid); then
		port=$(live_port)
		if ready "$port"; then
			url "$port"
			return 0
		fi
		log "process $pid exists but does not accept connections on port $port"
	else
		log "not running"
	fi
	return 3
}

cmd_status() {
	take_lock "$RUN/postgres.lock"
	local u
	u=$(running_url) || exit 3
	log "running"
	echo "$u"
}

cmd_env() {
	take_lock "$RUN/postgres.lock"
	local u
	u=$(running_url) || {
		log "start it first: $0 start"
		exit 3
	}
	locate
	# The TLS server's URL has an `&`: quoted.
	if grep -q '^ssl = on' "$DATA/migrate.conf" 2>/dev/null; then
		echo "export MIGRATE_PG_TLS_URL='$u'"
	else
		echo "export MIGRATE_PG_URL='$u'"
	fi
	echo "export MIGRATE_PG_BIN=$PG_BIN"
}

case "${1:-}" in
install)
	take_lock "$RUN/postgres.lock"
	ensure_installed
	;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
*) usage ;;
esac
