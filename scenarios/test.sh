#!/usr/bin/env bash
# The project's test command: start the test servers, run the whole workspace's tests against them,
# stop the servers again.
#
#   scenarios/test.sh                       # everything
#   scenarios/test.sh -p migrate-testkit    # extra arguments go to `cargo test`
#
# Servers: PostgreSQL and MariaDB (twice each: the second accepts TLS connections only), S3 (SeaweedFS) and the
# Glue API (moto) through scenarios/servers/*.sh (installed on first use when run as root). Their URLs are
# exported as MIGRATE_PG_URL / MIGRATE_PG_TLS_URL / MIGRATE_MYSQL_URL / MIGRATE_MYSQL_TLS_URL / MIGRATE_S3_URL,
# which the tests read through crates/testkit. If one of these variables is already set, that server is used and none is started.
# MIGRATE_REQUIRE_SERVERS=1 is exported: here the servers exist, so a test that can't reach one fails
# instead of skipping.
#
# Debug build on purpose: a cold `cargo test --workspace` builds in ~30 s here against ~100 s for
# --release, and no test needs optimised code yet.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
servers=$repo/scenarios/servers

# On failure: what the servers said, and the disk (a full disk makes servers refuse writes).
diagnose() {
	echo "test.sh: failed; disk and server logs follow" >&2
	df -h "$repo" >&2 || true
	local log
	for log in "${MIGRATE_RUN_DIR:-$repo/.run}"/*/*.log; do
		[ -f "$log" ] || continue
		echo "--- last error lines of $log" >&2
		grep -aiE '^[EF][0-9]{4} |error|fatal|panic' "$log" | tail -n 20 >&2 || true
	done
}

# Servers this run started, stopped on any exit (success, failure, Ctrl-C). A server that was already
# running (a developer's, reused) is left running.
started=()
cleanup() {
	local rc=$? s
	[ "$rc" -eq 0 ] || diagnose
	for s in "${started[@]}"; do
		run_server "$s" stop || true
	done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_server NAME COMMAND: scenarios/servers/NAME.sh COMMAND; postgres-tls and mariadb-tls are second
# servers (the script in a run dir of its own) that accept TLS connections only.
run_server() {
	case $1 in
	postgres-tls) MIGRATE_PG_TLS=1 MIGRATE_RUN_DIR="${MIGRATE_RUN_DIR:-$repo/.run}/pg-tls" \
		"$servers/postgres.sh" "$2" ;;
	mariadb-tls) MIGRATE_MYSQL_TLS=1 MIGRATE_RUN_DIR="${MIGRATE_RUN_DIR:-$repo/.run}/my-tls" \
		"$servers/mariadb.sh" "$2" ;;
	*) "$servers/$1.sh" "$2" ;;
	esac
}

# use_server NAME VAR: export VAR=<url of server NAME>, starting it unless VAR is already set.
use_server() {
	local name=$1 var=$2 url
	if [ -n "${!var:-}" ]; then
		echo "test.sh: using $var from the environment; not starting $name" >&2
		return
	fi
	run_server "$name" status >/dev/null 2>&1 || started+=("$name")
	url=$(run_server "$name" start)
	export "$var=$url"
	echo "test.sh: $var=$url" >&2
}

use_server postgres MIGRATE_PG_URL
use_server postgres-tls MIGRATE_PG_TLS_URL
use_server mariadb-tls MIGRATE_MYSQL_TLS_URL
use_server mariadb MIGRATE_MYSQL_URL
use_server s3 MIGRATE_S3_URL
use_server glue MIGRATE_GLUE_URL
use_server hdfs MIGRATE_HDFS_URL
# Its WebHDFS address (HDFS file checksums of `migrate copy`), unless given with the HDFS URL.
if [ -z "${MIGRATE_HDFS_HTTP_URL:-}" ] && "$servers/hdfs.sh" status >/dev/null 2>&1; then
	eval "$("$servers/hdfs.sh" env | grep '^export MIGRATE_HDFS_HTTP_URL=')"
	echo "test.sh: MIGRATE_HDFS_HTTP_URL=$MIGRATE_HDFS_HTTP_URL" >&2
fi
# Headless Chromium renders the HTML report of `migrate assess` in its test: Debian's package,
# installed when missing (as root, like the servers' packages).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	echo "test.sh: installing chromium (Debian package)" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
export MIGRATE_REQUIRE_SERVERS=1

# The tests' staging directories and captured outputs (some 450 MB a run) go to a scratch directory
# of this run instead of /tmp: emptied when the run starts, removed when it passes, kept after a
# failure to look at. Set here, after the servers started: only the tests (and cargo) use it. Mode
# 1777 as /tmp: the private servers some tests start inherit it and run as their own users.
scratch="${MIGRATE_RUN_DIR:-$repo/.run}/test-tmp"
rm -rf "$scratch"
mkdir -p "$scratch"
chmod 1777 "$scratch"
export TMPDIR=$scratch

cargo test --workspace --locked "$@"
rm -rf "$scratch"
