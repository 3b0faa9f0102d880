#!/usr/bin/env bash
# A private AWS Glue Data Catalog API for tests and local runs: moto's server (PyPI `moto[server]`,
# installed into its own directory with pip --target), on 127.0.0.1 only, in memory.
#
#   scenarios/servers/glue.sh start    # installs moto if missing, starts; prints the endpoint URL
#   scenarios/servers/glue.sh env      # export MIGRATE_GLUE_URL=http://127.0.0.1:PORT
#   scenarios/servers/glue.sh stop
#
# moto accepts any SigV4 signature and keeps everything in memory: a restart empties the catalog.
# It ignores Glue's pagination (MaxResults/NextToken) and the 100-item batch limits, so clients must
# test those on their own (crates/glue does).
#
# Environment: MIGRATE_RUN_DIR (default <repo>/.run), MIGRATE_GLUE_PORT (default 38500, or the next free
# one of the 20 after it when it is taken and no port was asked for), MIGRATE_TOOLS_DIR (where moto
# is installed; default /opt/migrate as root, else ~/.cache/migrate). See README.md beside this file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_VERSION=5.2.1
DEFAULT_PORT=38500
RUN=$(run_dir)
DIR=$RUN/glue
LOG=$DIR/moto.log
PIDFILE=$DIR/moto.pid
PORTFILE=$DIR/port

if is_root; then
	TOOLS=${MIGRATE_TOOLS_DIR:-/opt/migrate}
else
	TOOLS=${MIGRATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/migrate}
fi
TARGET=$TOOLS/moto-$MOTO_VERSION

url() { echo "http://127.0.0.1:$1"; }

python() { command -v python3 || command -v python; }

# Installs moto[server] and its dependencies (flask, werkzeug, boto3, ...) into their own directory
# with pip --target: nothing in the Python environment changes, and every checkout shares it.
ensure_installed() {
	[ -f "$TARGET/moto/server.py" ] && return 0
	local py tmp
	py=$(python) || die "python3 with pip is needed to install moto"
	mkdir -p "$TOOLS" || die "cannot create $TOOLS (set MIGRATE_TOOLS_DIR)"
	tmp=$(mktemp -d "$TOOLS/.moto.XXXXXX")
	log "installing moto[server]==$MOTO_VERSION into $TARGET (PyPI; one-time)"
	# Into a scratch dir renamed into place, so an interrupted install is never mistaken for one.
	if ! "$py" -m pip install --quiet --disable-pip-version-check --no-input \
		--target "$tmp" "moto[server]==$MOTO_VERSION" </dev/null >"$tmp.log" 2>&1; then
		show_log "$tmp.log"
		rm -rf "$tmp" "$tmp.log"
		die "pip install moto[server]==$MOTO_VERSION failed"
	fi
	rm -f "$tmp.log"
	[ -f "$tmp/moto/server.py" ] || {
		rm -rf "$tmp"
		die "pip installed no moto/server.py"
	}
	rm -rf "$TARGET"
	mv "$tmp" "$TARGET"
	log "installed $TARGET"
}

live_pid() {
	local pid comm
	[ -f "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE")
	[ -n "$pid" ] || return 1
	# The interpreter's name varies (python3, python3.11): any python process with our pid.
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	case $comm in python*) ;; *) return 1 ;; esac
	process_alive "$pid" "$comm" || return 1
	echo "$pid"
}

# Ready when a Glue call answers: GetDatabases returns 200 with a DatabaseList.
ready() {
	if command -v curl >/dev/null; then
		curl -s -m 5 -X POST -H 'X-Amz-Target: AWSGlue.GetDatabases' \
			-H 'Content-Type: application/x-amz-json-1.1' \
			-H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/glue/aws4_request, SignedHeaders=host, Signature=0' \
			-d '{}' "http://127.0.0.1:$1/" | grep -q DatabaseList
	else
		port_in_use "$1"
	fi
}

cmd_start() {
	take_lock "$RUN/glue.lock"
	local pid port py
	if pid=$(live_pid); then
		port=$(cat "$PORTFILE")
		wait_until 60 ready "$port" || die "moto (pid $pid, port $port) runs but does not answer; see $LOG"
		log "already running (pid $pid)"
		url "$port"
		return 0
	fi
	ensure_installed
	mkdir -p "$DIR"
	py=$(python) || die "python3 is needed to run moto"
	port=$(pick_port "${MIGRATE_GLUE_PORT:-}" "$DEFAULT_PORT")
	log "starting moto (Glue API) on 127.0.0.1:$port (log $LOG)"
	# setsid: the server outlives this script and the test process that ran it. 9>&-: it must not
	# hold our lock. PYTHONPATH: moto and its dependencies come from their own directory only.
	(
		cd "$DIR"
		PYTHONPATH=$TARGET exec setsid "$py" -m moto.server -H 127.0.0.1 -p "$port"
	) </dev/null >>"$LOG" 2>&1 9>&- &
	pid=$!
	echo "$pid" >"$PIDFILE"
	echo "$port" >"$PORTFILE"
	if ! wait_until 60 ready "$port"; then
		show_log "$LOG"
		kill -TERM "$pid" 2>/dev/null || true
		die "moto did not become ready on port $port"
	fi
	log "ready (pid $pid)"
	url "$port"
}

cmd_stop() {
	take_lock "$RUN/glue.lock"
	local pid
	if ! pid=$(live_pid); then
		rm -f "$PIDFILE"
		log "not running"
		return 0
	fi
	terminate moto "$pid"
	rm -f "$PIDFILE"
}

running_url() {
	local pid port
	if pid=$(live_pid); then
		port=$(cat "$PORTFILE")
		if ready "$port"; then
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
	take_lock "$RUN/glue.lock"
	local u
	u=$(running_url) || exit 3
	log "running"
	echo "$u"
}

cmd_env() {
	take_lock "$RUN/glue.lock"
	local u
	u=$(running_url) || {
		log "start it first: $0 start"
		exit 3
	}
	echo "export MIGRATE_GLUE_URL=$u"
}

case "${1:-}" in
install)
	take_lock "$RUN/glue.lock"
	ensure_installed
	;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
*) usage ;;
esac
