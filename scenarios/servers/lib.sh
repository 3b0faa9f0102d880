# shellcheck shell=bash
# Helpers shared by postgres.sh and mariadb.sh. Sourced, never run.
#
# The scripts print progress on stderr and exactly one result (a URL, or `export` lines) on stdout, so
# callers can capture stdout (`url=$(postgres.sh start)`) without parsing logs.

SERVERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SERVERS_DIR/../.." && pwd)
SCRIPT_NAME=$(basename "$0")

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
	exit 1
}

# The run dir holds every server's data, sockets, logs and locks. It is made absolute because the
# servers are started with these paths and may resolve relative ones against another directory.
run_dir() {
	local d=${MIGRATE_RUN_DIR:-$REPO_ROOT/.run}
	mkdir -p "$d" || die "cannot create run dir $d"
	(cd "$d" && pwd -P)
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# take_lock FILE: serialise start/stop/status of one server across processes (several test binaries, or
# two terminals, may call `start` at the same moment). Uses fd 9, which every command that leaves a
# daemon behind must close (`9>&-`): a daemon inheriting it would hold the lock for as long as it runs.
take_lock() {
	command -v flock >/dev/null || die "flock (util-linux) is required"
	exec 9>"$1"
	flock -w "${MIGRATE_LOCK_TIMEOUT:-900}" 9 || die "timed out waiting for lock $1"
}

# apt_install PACKAGE...: installs Debian packages quietly and without questions (CI has no stdin).
# Only root can do this (or a user with password-less sudo). `apt-get update` is run only here, that is
# only when something is actually missing. A machine-wide lock keeps the two server scripts from running
# apt at the same time (apt's own lock fails instead of waiting).
apt_install() {
	local sudo=()
	if ! is_root; then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			sudo=(sudo -n)
		else
			die "missing $*; install it (e.g. 'sudo apt-get install -y $*') or run this script as root"
		fi
	fi
	command -v apt-get >/dev/null || die "missing $* and no apt-get here: install it with your package manager"
	log "installing $* (Debian packages; one-time)"
	(
		# Lock on fd 8 (fd 9 is our caller's server lock, already held).
		# flock works on a read-only fd too, which matters when another user created the file.
		local lock=/tmp/migrate-apt.lock
		if [ -e "$lock" ]; then exec 8<"$lock"; else exec 8>"$lock"; fi
		flock -w 900 8 || die "timed out waiting for another apt install"
		# Package installs must not start the distribution's own server (port 5432/3306, /var/lib/...):
		# we run our own. Docker-style images already forbid service starts with policy-rc.d; if this
		# machine has none, install a temporary one and remove it afterwards.
		local policy=/usr/sbin/policy-rc.d own_policy=
		if [ ! -e "$policy" ]; then
			printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
			"${sudo[@]}" chmod 755 "$policy"
			own_policy=1
		fi
		export DEBIAN_FRONTEND=noninteractive
		local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y
			-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
		# apt and dpkg are chatty even with -qq: keep their output in a log, shown only on failure.
		local rc=0 out=/tmp/migrate-apt.log
		{ "${apt[@]}" update && "${apt[@]}" install --no-install-recommends "$@"; } </dev/null >"$out" 2>&1 || rc=$?
		[ -z "$own_policy" ] || "${sudo[@]}" rm -f "$policy"
		if [ "$rc" -ne 0 ]; then
			show_log "$out"
			die "apt-get install $* failed (exit $rc)"
		fi
		log "installed $*"
	)
}

# service_user PREFERRED: the unprivileged account the server runs as. PostgreSQL refuses to run as root
# and MariaDB needs --user, so as root we use the distribution's account (postgres, mysql), creating a
# system account `migrate` if it doesn't exist. As a normal user the server runs as that user: prints "".
service_user() {
	is_root || return 0
	if id -u "$1" >/dev/null 2>&1; then
		echo "$1"
		return
	fi
	if ! id -u migrate >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin migrate ||
			die "cannot create system user migrate"
	fi
	echo migrate
}

# as_user USER CMD...: runs CMD as USER (when USER is non-empty, i.e. we are root), else as ourselves.
# The caller's environment is kept (runuser -u does not reset it) but HOME must not point at /root.
as_user() {
	local user=$1
	shift
	if [ -n "$user" ]; then
		# From /: the caller's directory may be unreachable for USER (pg_ctl would complain).
		(cd / && runuser -u "$user" -- env HOME=/tmp "$@")
	else
		"$@"
	fi
}

# state_dir NAME USER SOCKET_NAME: the directory for one server's data, socket and log. Normally
# RUN_DIR/NAME. Two cases need a directory under /tmp instead (with RUN_DIR/NAME a symlink to it, so it
# is still found there):
#  - as root, the service user can't reach RUN_DIR when the clone lives under a private directory
#    such as /root (mode 700);
#  - a unix socket path is limited to 107 bytes, which a deep checkout can exceed.
# The /tmp name is derived from RUN_DIR so that each checkout gets its own directory.
state_dir() {
	local name=$1 user=$2 sock=$3 rd preferred
	rd=$(run_dir)
	preferred=$rd/$name
	if [ -L "$preferred" ]; then
		readlink -f "$preferred"
		return
	fi
	local why=
	if [ -n "$user" ] && ! (cd / && runuser -u "$user" -- test -x "$rd") 2>/dev/null; then
		why="user '$user' cannot reach $rd"
	elif [ $((${#preferred} + ${#sock} + 1)) -gt 100 ]; then
		why="$preferred/$sock is too long for a unix socket"
	else
		mkdir -p "$preferred"
		echo "$preferred"
		return
	fi
	local alt
	alt=/tmp/migrate-$(id -u)-$(printf '%s' "$rd" | cksum | cut -d' ' -f1)/$name
	mkdir -p "$alt"
	chmod 755 "$(dirname "$alt")"
	# Never delete a real server dir to make room for the link: stop and say so instead.
	if [ -e "$preferred" ] && ! rmdir "$preferred" 2>/dev/null; then
		die "$preferred exists but can't be used ($why); move it away or set MIGRATE_RUN_DIR"
	fi
	ln -sfn "$alt" "$preferred"
	log "using $alt for $name, linked from $preferred: $why"
	echo "$alt"
}

# process_alive PID [NAME]: true when PID is a live (not zombie) process, whose name is NAME if given.
process_alive() {
	local stat
	[ -z "${2:-}" ] || [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) } # the state letter follows "(comm) "
	case ${stat:0:1} in Z | X) return 1 ;; esac
}

# port_in_use PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pick_port EXPLICIT DEFAULT: the port to start on. An explicitly requested port (the env var is set) is
# used as is, so a conflict is reported rather than hidden. Otherwise the default, or the next free one
# of the 20 after it, so that several checkouts on one machine can each run their own servers.
pick_port() {
	local explicit=$1 default=$2 p
	if [ -n "$explicit" ]; then
		port_in_use "$explicit" && die "port $explicit (set explicitly) is already in use by another process"
		echo "$explicit"
		return
	fi
	for ((p = default; p < default + 20; p++)); do
		if ! port_in_use "$p"; then
			[ "$p" -eq "$default" ] || log "port $default is busy; using $p"
			echo "$p"
			return
		fi
	done
	die "ports $default-$((default + 19)) are all in use; set a free port explicitly"
}

# wait_until SECONDS CMD...: polls CMD every 0.2 s until it succeeds (true) or time runs out (false).
wait_until() {
	local secs=$1
	shift
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# terminate NAME PID: SIGTERM, then SIGKILL if PID is still running (and not a zombie) after 30 s.
terminate() {
	local name=$1 pid=$2
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || die "cannot signal pid $pid (started by another user?)"
	if ! wait_until 30 bash -c "! kill -0 $pid 2>/dev/null || [ \"\$(cut -d' ' -f3 /proc/$pid/stat 2>/dev/null)\" = Z ]"; then
		log "$name still running after 30 s; killing"
		kill -KILL "$pid" 2>/dev/null || true
	fi
}

# show_log FILE: the end of a server log, for failure messages.
show_log() {
	[ -f "$1" ] || return 0
	printf '%s: last lines of %s:\n' "$SCRIPT_NAME" "$1" >&2
	tail -n 25 "$1" | sed 's/^/    /' >&2
}

# make_test_certificates DIR OWNER: a test CA (DIR/ca.crt), a server certificate it signed for
# 127.0.0.1 and localhost (DIR/server.crt, DIR/server.key) and a client certificate for the user
# migrate_cert (DIR/client.crt, DIR/client.key), made once with openssl. The keys are readable by
# OWNER (the user the server runs as; empty: ourselves) alone.
make_test_certificates() {
	local tls=$1 owner=$2
	[ -f "$tls/server.crt" ] && [ -f "$tls/client.crt" ] && return 0
	command -v openssl >/dev/null || die "openssl is needed for a TLS server (apt-get install openssl)"
	mkdir -p "$tls"
	{
		if [ ! -f "$tls/server.crt" ]; then
			openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=migrate test CA" \
				-keyout "$tls/ca.key" -out "$tls/ca.crt" &&
				openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
					-keyout "$tls/server.key" -out "$tls/server.csr" &&
				openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
					-CAcreateserial -days 3650 -out "$tls/server.crt" \
					-extfile <(printf 'subjectAltName = IP:127.0.0.1, DNS:localhost\n')
		fi &&
			openssl req -newkey rsa:2048 -nodes -subj "/CN=migrate_cert" \
				-keyout "$tls/client.key" -out "$tls/client.csr" &&
			openssl x509 -req -in "$tls/client.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
				-CAcreateserial -days 3650 -out "$tls/client.crt" \
				-extfile <(printf 'extendedKeyUsage = clientAuth\n')
	} >"$tls/openssl.log" 2>&1 || {
		show_log "$tls/openssl.log"
		die "making the test certificates failed"
	}
	chmod 600 "$tls/server.key" "$tls/ca.key" "$tls/client.key"
	[ -z "$owner" ] || chown -R "$owner:" "$tls"
}

usage() {
	cat >&2 <<EOF
usage: $SCRIPT_NAME start|stop|status|env|install
  start   install if needed, initialise once, start (no-op if running); prints the URL on stdout
  stop    stop the server (fast shutdown; also fine if it is not running or died)
  status  exit 0 and print the URL if running, exit 3 if not
  env     print 'export ...' lines for a running server (eval "\$($SCRIPT_NAME env)")
  install only install the Debian package if it is missing (as root; what .ci/run does first)
See scenarios/servers/README.md.
EOF
	exit 2
}
