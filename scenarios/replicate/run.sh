#!/usr/bin/env bash
# Runs one replicate scenario end to end and prints PASS or FAIL:
#
#   scenarios/replicate/run.sh pg-to-pg          # or mariadb-to-pg
#
# 1. servers: MIGRATE_PG_URL / MIGRATE_MYSQL_URL if set (Docker users: `source docker/env.sh`),
#    else scenarios/servers/*.sh install (Debian packages, as root) and start them natively;
# 2. fresh source and target databases (the names in the scenario's task.toml), source.sql loaded;
# 3. a release build of migrate, then `migrate replicate --task SCENARIO/task.toml` and
#    `migrate validate` (source and target URLs from step 1, staging under .run/replicate/);
# 4. the target is checked against SCENARIO/expected.toml: exactly the expected tables, with
#    their row counts and columns.
#
# Exit status: 0 PASS, 1 FAIL, 2 could not run (bad arguments, a server or build failed).
#
# Environment:
#   MIGRATE_STAGING=s3      stage in S3 (SeaweedFS through scenarios/servers/s3.sh, or MIGRATE_S3_URL)
#                           instead of a local directory
#   MIGRATE_BIN=PATH        use this migrate binary instead of building one
#   MIGRATE_KEEP_SERVERS=1  leave the servers this run started running (to look at the result)
#   MIGRATE_PROGRESS=...    --progress for migrate replicate (auto, always, never; default auto)
# Servers this run started are stopped at the end; the databases stay (the next run recreates them).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCENARIOS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
	local d names=
	for d in "$SCENARIOS"/*/; do names+=" $(basename "$d")"; done
	echo "usage: $0 SCENARIO   (one of:$names)" >&2
	exit 2
}
# Anything that stops the run before the checks is "could not run", not FAIL.
die() {
	printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
	exit 2
}

[ $# -eq 1 ] || usage
scenario=${1%/}
dir=$SCENARIOS/$scenario
for f in task.toml source.sql expected.toml; do [ -f "$dir/$f" ] || usage; done

# task_url SECTION: the `url` of [SECTION] in the scenario's task.toml.
task_url() {
	awk -v want="[$1]" '
		/^\[/ { section = $1 }
		section == want && $1 == "url" { sub(/^[^"]*"/, ""); sub(/".*$/, ""); print; exit }
	' "$dir/task.toml"
}

# server_of URL: the kind of server a task URL needs (postgres or mariadb).
server_of() {
	case $1 in
	postgres://* | postgresql://*) echo postgres ;;
	mysql://* | mariadb://*) echo mariadb ;;
	*) die "$dir/task.toml: this runner handles postgres:// and mysql:// URLs, not $(redact_url "$1")" ;;
	esac
}
url_var() { if [ "$1" = postgres ]; then echo MIGRATE_PG_URL; else echo MIGRATE_MYSQL_URL; fi; }

task_source=$(task_url source)
task_target=$(task_url target)
source_server=$(server_of "$task_source")
target_server=$(server_of "$task_target")
[ "$target_server" = postgres ] || die "$dir/task.toml: the target must be PostgreSQL here"
source_db=$(database_of "$task_source")
target_db=$(database_of "$task_target")
[ -n "$source_db" ] || die "$dir/task.toml: the source URL must name a database"
[ -n "$target_db" ] ||
	die "$dir/task.toml: the target URL must name a database"

start=$(now_ns)

# The build comes first: it is the long step, and a failed build should not leave servers behind.
build_migrate

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local rc=$?
	if [ "${MIGRATE_KEEP_SERVERS:-}" = 1 ]; then
		[ ${#STARTED_SERVERS[@]} -eq 0 ] || log "leaving ${STARTED_SERVERS[*]} running (MIGRATE_KEEP_SERVERS=1)"
	else
		stop_started_servers
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

use_server "$source_server" "$(url_var "$source_server")"
[ "$source_server" = postgres ] || use_server postgres MIGRATE_PG_URL
source_server_var=$(url_var "$source_server")
source_server_url=${!source_server_var}
source_url=$(with_database "$source_server_url" "$source_db")
target_url=$(with_database "$MIGRATE_PG_URL" "$target_db")

log "creating database $source_db ($source_server) and loading $scenario/source.sql"
if [ "$source_server" = postgres ]; then
	fresh_pg_database "$MIGRATE_PG_URL" "$source_db"
	pg "$source_url" -f "$dir/source.sql" >/dev/null
else
	fresh_mysql_database "$source_server_url" "$source_db"
	my "$source_url" <"$dir/source.sql" >/dev/null
fi
log "creating database $target_db (postgres, empty)"
fresh_pg_database "$MIGRATE_PG_URL" "$target_db"

if [ "${MIGRATE_STAGING:-}" = s3 ]; then
	s3_staging "replicate/$scenario"
else
	local_staging "replicate/$scenario"
fi

failures=()
endpoint_args=(--source "$source_url" --target "$target_url")
shown_args="--source $(redact_url "$source_url") --target $(redact_url "$target_url")"

echo "== migrate replicate --task scenarios/replicate/$scenario/task.toml $shown_args ${STAGING_ARGS[*]}" >&2
load_start=$(now_ns)
if ! "$MIGRATE" replicate --task "$dir/task.toml" "${endpoint_args[@]}" "${STAGING_ARGS[@]}" \
	--progress "${MIGRATE_PROGRESS:-auto}"; then
	failures+=("migrate replicate failed (exit status above)")
fi
load_secs=$(seconds_since "$load_start")

echo "== migrate validate --task scenarios/replicate/$scenario/task.toml $shown_args" >&2
if ! "$MIGRATE" validate --task "$dir/task.toml" "${endpoint_args[@]}"; then
	failures+=("migrate validate found differences or failed")
fi

# The checks of expected.toml: [row_counts] "schema.table" = N, [columns] "schema.table" = "a,b,c".
echo "== checking the target against scenarios/replicate/$scenario/expected.toml" >&2
declare -A want_rows=() want_columns=()
section=
while IFS= read -r line; do
	line=${line%%#*}
	if [[ $line =~ ^[[:space:]]*\[([a-z_]+)\] ]]; then
		section=${BASH_REMATCH[1]}
	elif [[ $line =~ ^[[:space:]]*\"([^\"]+)\"[[:space:]]*=[[:space:]]*\"?([^\"]*[^\"[:space:]])\"?[[:space:]]*$ ]]; then
		case $section in
		row_counts) want_rows[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]} ;;
		columns) want_columns[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]} ;;
		*) die "$dir/expected.toml: unknown section [$section]" ;;
		esac
	elif [[ $line =~ [^[:space:]] ]]; then
		die "$dir/expected.toml: cannot read line: $line"
	fi
done <"$dir/expected.toml"
[ ${#want_rows[@]} -gt 0 ] || die "$dir/expected.toml has no [row_counts]"

schemas=$(printf '%s\n' "${!want_rows[@]}" | cut -d. -f1 | sort -u | sed "s/.*/'&'/" | paste -sd,)
found_tables=$(pg_value "$target_url" "SELECT table_schema || '.' || table_name FROM information_schema.tables
	WHERE table_schema IN ($schemas) AND table_type = 'BASE TABLE' ORDER BY 1")
total_rows=0
for table in $(printf '%s\n' "${!want_rows[@]}" | sort); do
	if ! grep -qxF "$table" <<<"$found_tables"; then
		printf '  %-28s missing\n' "$table"
		failures+=("$table is missing in the target")
		continue
	fi
	rows=$(pg_value "$target_url" "SELECT count(*) FROM \"${table%%.*}\".\"${table#*.}\"")
	total_rows=$((total_rows + rows))
	if [ "$rows" = "${want_rows[$table]}" ]; then
		printf '  %-28s %10s rows  ok\n' "$table" "$rows"
	else
		printf '  %-28s %10s rows  expected %s\n' "$table" "$rows" "${want_rows[$table]}"
		failures+=("$table has $rows rows, expected ${want_rows[$table]}")
	fi
done
while IFS= read -r table; do
	[ -z "$table" ] || [ -n "${want_rows[$table]:-}" ] || {
		printf '  %-28s unexpected table\n' "$table"
		failures+=("$table is in the target but not in expected.toml (a mapping rule did not apply?)")
	}
done <<<"$found_tables"
for table in "${!want_columns[@]}"; do
	grep -qxF "$table" <<<"$found_tables" || continue # reported above
	columns=$(pg_value "$target_url" "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_schema = '${table%%.*}' AND table_name = '${table#*.}'")
	if [ "$columns" != "${want_columns[$table]}" ]; then
		printf '  %-28s columns %s, expected %s\n' "$table" "${columns:-(none)}" "${want_columns[$table]}"
		failures+=("$table has columns ${columns:-(none)}, expected ${want_columns[$table]}")
	fi
done

if [ ${#failures[@]} -eq 0 ]; then
	echo "PASS: $scenario: ${#want_rows[@]} tables, $total_rows rows loaded in $load_secs s and validated; target $(redact_url "$target_url") ($(seconds_since "$start") s in all)"
	exit 0
fi
echo "FAIL: $scenario:"
printf '  - %s\n' "${failures[@]}"
exit 1
