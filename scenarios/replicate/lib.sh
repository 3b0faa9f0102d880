# shellcheck shell=bash
# Helpers shared by scenarios/replicate/run.sh and bench/replicate.sh. Sourced, never run.
#
# Servers come from MIGRATE_PG_URL / MIGRATE_MYSQL_URL / MIGRATE_S3_URL when set (Docker, or
# servers you run), else from scenarios/servers/*.sh, which install and start them natively.

# shellcheck source-path=SCRIPTDIR source=../servers/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../servers/lib.sh" # log, die, apt_install, run_dir, REPO_ROOT

# Servers that this process started; stop_started_servers stops them (never one it found running).
STARTED_SERVERS=()

# use_server NAME VAR: export VAR (the server's URL), starting server NAME (scenarios/servers/NAME.sh)
# unless VAR is already set.
use_server() {
	local name=$1 var=$2 url
	if [ -n "${!var:-}" ]; then
		log "using $var from the environment ($(redact_url "${!var}")); not starting $name"
		return
	fi
	"$SERVERS_DIR/$name.sh" status >/dev/null 2>&1 || STARTED_SERVERS+=("$name")
	url=$("$SERVERS_DIR/$name.sh" start) || die "could not start $name (scenarios/servers/$name.sh start)"
	export "$var=$url"
	if [ "$name" = s3 ]; then
		# The standard AWS variables, which migrate's S3 staging reads.
		eval "$("$SERVERS_DIR/s3.sh" env)"
	fi
}

stop_started_servers() {
	local s
	for s in "${STARTED_SERVERS[@]}"; do
		"$SERVERS_DIR/$s.sh" stop || true
	done
	STARTED_SERVERS=()
}

# redact_url URL: the URL with its password replaced by ***, for messages.
redact_url() { sed -E 's#^([a-z0-9+]+://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

# with_database URL DB: URL with its database (the path) replaced by DB; query parameters are kept.
with_database() {
	local url=$1 db=$2 query=
	case $url in *\?*)
		query="?${url#*\?}"
		url=${url%%\?*}
		;;
	esac
	local rest=${url#*://}
	case $rest in */*) url=${url%/*} ;; esac
	echo "$url/$db$query"
}

# database_of URL: the database named in URL's path.
database_of() {
	local url=${1%%\?*}
	url=${url#*://}
	case $url in */*) echo "${url#*/}" ;; *) echo "" ;; esac
}

# Client programs; installed from Debian packages if missing (the native server packages bring them).
PSQL=
MYSQL_CLIENT=
need_psql() {
	[ -z "$PSQL" ] || return 0
	if [ -x "${MIGRATE_PG_BIN:-/usr/lib/postgresql/15/bin}/psql" ]; then
		PSQL=${MIGRATE_PG_BIN:-/usr/lib/postgresql/15/bin}/psql
	elif command -v psql >/dev/null; then
		PSQL=$(command -v psql)
	else
		apt_install postgresql-client
		PSQL=$(command -v psql) || die "psql is missing after installing postgresql-client"
	fi
}
need_mysql_client() {
	[ -z "$MYSQL_CLIENT" ] || return 0
	MYSQL_CLIENT=$(command -v mariadb || command -v mysql) || {
		apt_install mariadb-client
		MYSQL_CLIENT=$(command -v mariadb || command -v mysql) || die "no mariadb client after installing mariadb-client"
	}
}

# pg URL [psql args...]: psql on URL, quiet, stopping at the first error.
pg() {
	need_psql
	local url=$1
	shift
	PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$url" "$@"
}

# pg_value URL SQL: one value, unaligned.
pg_value() { pg "$1" -A -t -c "$2"; }

# my URL [client args...]: the MariaDB/MySQL client on a mysql:// URL (the password goes through
# MYSQL_PWD, never the command line).
my() {
	need_mysql_client
	local url=$1
	shift
	[[ $url =~ ^(mysql|mariadb)://([^:@/]*)(:([^@/]*))?@([^:/?]+)(:([0-9]+))?(/([^?]*))? ]] ||
		die "not a mysql:// URL: $(redact_url "$url")"
	local user=${BASH_REMATCH[2]} password=${BASH_REMATCH[4]} host=${BASH_REMATCH[5]}
	local port=${BASH_REMATCH[7]:-3306} db=${BASH_REMATCH[9]}
	local args=(--protocol=TCP -h "$host" -P "$port" -u "$user" --default-character-set=utf8mb4)
	[ -z "$db" ] || args+=(-D "$db")
	MYSQL_PWD=$password "$MYSQL_CLIENT" "${args[@]}" "$@"
}

# fresh_pg_database SERVER_URL DB: drops database DB (if it exists) and creates it empty.
fresh_pg_database() {
	pg "$1" -c "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)" -c "CREATE DATABASE \"$2\""
}
drop_pg_database() { pg "$1" -c "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)"; }

# fresh_mysql_database SERVER_URL DB: the same on MariaDB/MySQL.
fresh_mysql_database() {
	my "$1" -e "DROP DATABASE IF EXISTS \`$2\`; CREATE DATABASE \`$2\` CHARACTER SET utf8mb4"
}
drop_mysql_database() { my "$1" -e "DROP DATABASE IF EXISTS \`$2\`"; }

# local_staging NAME / s3_staging NAME: set STAGING_ARGS, the staging arguments of migrate
# replicate: a fresh directory RUN_DIR/NAME/staging, or a fresh prefix NAME-<time>-<pid> in the bucket
# of the S3 server (MIGRATE_S3_URL, else scenarios/servers/s3.sh), with its endpoint and credentials.
# shellcheck disable=SC2034 # read by the scripts that source this file
STAGING_ARGS=()
local_staging() {
	local staging
	staging=$(run_dir)/$1/staging
	rm -rf "$staging"
	mkdir -p "$staging"
	STAGING_ARGS=(--staging "$staging")
}
# shellcheck disable=SC2034
s3_staging() {
	use_server s3 MIGRATE_S3_URL
	# http://KEY:SECRET@HOST:PORT/BUCKET: the endpoint, credentials and bucket of the S3 server.
	[[ $MIGRATE_S3_URL =~ ^(https?)://([^:@/]+):([^@/]+)@([^/]+)/([^/?]+) ]] ||
		die "MIGRATE_S3_URL must look like http://ACCESS_KEY:SECRET@HOST:PORT/BUCKET"
	export AWS_ACCESS_KEY_ID=${BASH_REMATCH[2]} AWS_SECRET_ACCESS_KEY=${BASH_REMATCH[3]}
	export AWS_REGION=${AWS_REGION:-us-east-1} AWS_ALLOW_HTTP=true
	STAGING_ARGS=(--staging "s3://${BASH_REMATCH[5]}/$1-$(date +%Y%m%d%H%M%S)-$$"
		--staging-endpoint "${BASH_REMATCH[1]}://${BASH_REMATCH[4]}")
}

# now_ns / seconds_since NS: a monotonic-enough clock for timing steps, in nanoseconds, and the
# seconds elapsed since NS with two decimals.
now_ns() { date +%s%N; }
seconds_since() { awk -v ns=$(($(date +%s%N) - $1)) 'BEGIN { printf "%.2f", ns / 1e9 }'; }

# build_migrate: sets MIGRATE to a release build of the migrate binary (MIGRATE_BIN, if set, is used
# as is instead).
MIGRATE=
build_migrate() {
	if [ -n "${MIGRATE_BIN:-}" ]; then
		[ -x "$MIGRATE_BIN" ] || die "MIGRATE_BIN=$MIGRATE_BIN is not an executable"
		MIGRATE=$MIGRATE_BIN
		return
	fi
	command -v cargo >/dev/null || die "cargo is missing: install Rust (https://rustup.rs), or set MIGRATE_BIN"
	log "building migrate (cargo build --release; the first build takes several minutes)"
	(cd "$REPO_ROOT" && cargo build --release --locked --quiet --bin migrate) || die "cargo build failed"
	MIGRATE=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/migrate
	case $MIGRATE in /*) ;; *) MIGRATE=$REPO_ROOT/$MIGRATE ;; esac
	[ -x "$MIGRATE" ] || die "built, but $MIGRATE is missing"
}
