#!/usr/bin/env bash
# Full-load benchmark of `migrate replicate` against the baselines of docs/benchmarks.md, on the
# same data in the same run:
#
#   (a) PostgreSQL -> PostgreSQL: one table of ROWS rows (default 10,000,000; about 1.3 GB in
#       PostgreSQL) with migrate, vs the raw pipe
#       psql -c "\copy t to stdout" | psql -c "\copy t from stdin"   into an empty identical table.
#       Target: migrate takes at most 1.25x the pipe's time.
#   (b) MariaDB -> PostgreSQL: the same table shape with migrate, vs pgloader (Debian package,
#       installed here if missing). Target: migrate at least 2x faster.
#   (c) peak RSS of each migrate run (/usr/bin/time -v). Target: under 500 MB.
#
#   bench/replicate.sh                   # 10M rows, everything
#   ROWS=1000000 bench/replicate.sh      # a quick run
#
# Environment:
#   ROWS=N            rows of the table (default 10000000)
#   PARTS="a b"       which parts to run (default "a b"; c is measured during a and b)
#   STAGING=s3        stage through the S3 server instead of a local directory
#   MIGRATE_BIN=PATH  use this migrate binary instead of a release build of this checkout
#   MIGRATE_BENCH_KEEP=1  keep the source databases (a later run with the same ROWS reuses them)
#                     and leave the servers this run started running
# Servers: MIGRATE_PG_URL / MIGRATE_MYSQL_URL if set, else scenarios/servers/*.sh start them
# (and this script stops them at the end). Each run uses fresh target databases named
# migrate_bench_*, dropped at the end.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scenarios/replicate/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scenarios/replicate/lib.sh"

ROWS=${ROWS:-10000000}
PARTS=${PARTS:-a b}
[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "ROWS must be a positive integer, not '$ROWS'"
want_part() { [[ " $PARTS " == *" $1 "* ]]; }

# The table, the same shape on both sources: a key, integers, text, a decimal, a float, a
# timestamp with time zone, a date, a boolean, NULLs; about 130 bytes a row in PostgreSQL.
# Every value is a function of the row number, so both sources hold the same rows.
PG_TABLE_DDL='CREATE TABLE bench.t (
    id          bigint        PRIMARY KEY,
    customer_id integer       NOT NULL,
    sku         varchar(24)   NOT NULL,
    quantity    smallint      NOT NULL,
    price       numeric(12,2) NOT NULL,
    discount    double precision,
    status      varchar(12)   NOT NULL,
    note        text,
    created_at  timestamptz   NOT NULL,
    shipped_on  date,
    is_paid     boolean       NOT NULL
)'
pg_fill_sql() { # FROM TO
	cat <<EOF
INSERT INTO bench.t
SELECT g, 1 + (g * 7919) % 1000000, 'SKU-' || lpad((g % 100000)::text, 8, '0'), 1 + g % 20,
       round(0.99 + (g % 99991) * 0.37, 2), CASE WHEN g % 4 = 0 THEN NULL ELSE (g % 50) / 100.0 END,
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + g % 5],
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'gift wrap, leave at door ' || g END,
       timestamptz '2020-01-01 00:00:00+00' + g * interval '1.234567 seconds',
       CASE WHEN g % 5 IN (2, 3) THEN date '2020-01-02' + (g / 500000)::integer END,
       g % 7 <> 0
FROM generate_series($1::bigint, $2) g;
EOF
}
MY_TABLE_DDL='CREATE TABLE t (
    id          BIGINT        NOT NULL PRIMARY KEY,
    customer_id INT           NOT NULL,
    sku         VARCHAR(24)   NOT NULL,
    quantity    SMALLINT      NOT NULL,
    price       DECIMAL(12,2) NOT NULL,
    discount    DOUBLE,
    status      VARCHAR(12)   NOT NULL,
    note        TEXT,
    created_at  TIMESTAMP(6)  NOT NULL,
    shipped_on  DATE,
    is_paid     BOOLEAN       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'
my_fill_sql() { # FROM TO (MariaDB's sequence engine: seq_FROM_to_TO)
	cat <<EOF
SET time_zone = '+00:00';
INSERT INTO t
SELECT seq, 1 + (seq * 7919) % 1000000, CONCAT('SKU-', LPAD(seq % 100000, 8, '0')), 1 + seq % 20,
       ROUND(0.99 + (seq % 99991) * 0.37, 2), IF(seq % 4 = 0, NULL, (seq % 50) / 100.0),
       ELT(1 + seq % 5, 'new', 'paid', 'shipped', 'delivered', 'cancelled'),
       IF(seq % 3 = 0, NULL, CONCAT('gift wrap, leave at door ', seq)),
       TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq * 1234567 MICROSECOND,
       IF(seq % 5 IN (2, 3), DATE '2020-01-02' + INTERVAL seq DIV 500000 DAY, NULL),
       seq % 7 <> 0
FROM seq_$1_to_$2;
EOF
}
# Sources are filled a million rows per statement (transaction), to keep undo/WAL bounded.
fill_in_steps() { # FUNCTION RUNNER...
	local fill=$1 lo hi
	shift
	for ((lo = 1; lo <= ROWS; lo += 1000000)); do
		hi=$((lo + 999999 < ROWS ? lo + 999999 : ROWS))
		"$fill" "$lo" "$hi" | "$@" >/dev/null
	done
}

SRC_PG=migrate_bench_src_pg
SRC_MY=migrate_bench_src
DST_PIPE=migrate_bench_dst_pipe
DST_PG=migrate_bench_dst_pg
DST_MY=migrate_bench_dst_mysql
DST_PGLOADER=migrate_bench_dst_pgloader
WORK=$(run_dir)/bench
mkdir -p "$WORK"

build_migrate
[ -x /usr/bin/time ] || apt_install time

started_dbs=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local rc=$? db
	for db in "${started_dbs[@]}"; do
		case $db in
		my:*) drop_mysql_database "$MIGRATE_MYSQL_URL" "${db#my:}" || true ;;
		pg:*) drop_pg_database "$MIGRATE_PG_URL" "${db#pg:}" || true ;;
		esac
	done
	[ "${MIGRATE_BENCH_KEEP:-}" = 1 ] || stop_started_servers
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

use_server postgres MIGRATE_PG_URL
want_part b && use_server mariadb MIGRATE_MYSQL_URL
pg_db() { with_database "$MIGRATE_PG_URL" "$1"; }
my_db() { with_database "$MIGRATE_MYSQL_URL" "$1"; }
# drop_after KIND:DB: drop this database when the script ends (sources only unless told to keep).
drop_after() { started_dbs+=("$1"); }
keep_sources() { [ "${MIGRATE_BENCH_KEEP:-}" = 1 ]; }

# Results, printed together at the end.
summary=()
say() {
	summary+=("$*")
	echo "bench: $*" >&2
}
peak_rss_mb=0

# run_migrate LABEL ARGS...: times `migrate ARGS` under /usr/bin/time -v, output in WORK/LABEL.*;
# sets SECS and RSS_MB, and returns migrate's exit status.
run_migrate() {
	local label=$1 t0 rc=0
	shift
	t0=$(now_ns)
	/usr/bin/time -v -o "$WORK/$label.time" "$MIGRATE" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || rc=$?
	SECS=$(seconds_since "$t0")
	RSS_MB=$(awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$WORK/$label.time")
	[ "$RSS_MB" -le "$peak_rss_mb" ] || peak_rss_mb=$RSS_MB
	if [ "$rc" -ne 0 ]; then
		tail -n 20 "$WORK/$label.err" >&2
		log "$label: migrate $1 exited $rc after $SECS s (output in $WORK/$label.out and .err)"
	fi
	return "$rc"
}

# validate LABEL SOURCE TARGET: runs migrate validate; sets VALIDATION to what to report.
validate() {
	if run_migrate "$1" validate --source "$2" --target "$3"; then
		VALIDATION="$SECS s, passed"
	else
		VALIDATION="$SECS s, FAILED (see $WORK/$1.out and .err)"
	fi
}

# ratio A B [DIGITS]: A / B.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v r="$ROWS" -v s="$1" 'BEGIN { printf "%.0f", r / s }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "NOT met"; fi; }

target_rows() { # URL TABLE: the row count of TABLE in the target, which must be ROWS
	local n
	n=$(pg_value "$1" "SELECT count(*) FROM $2")
	[ "$n" = "$ROWS" ] || die "$2 in $(redact_url "$1") has $n rows, expected $ROWS"
}

say "$(date -u '+%Y-%m-%d %H:%M UTC'), $ROWS rows, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
say "migrate: $MIGRATE ($("$MIGRATE" --version))"

staging() { # NAME: sets STAGING_ARGS for one run
	if [ "${STAGING:-}" = s3 ]; then s3_staging "bench/$1"; else local_staging "bench/$1"; fi
}

# ---- (a) PostgreSQL -> PostgreSQL
if want_part a; then
	src=$(pg_db "$SRC_PG")
	if keep_sources && [ "$(pg_value "$src" "SELECT count(*) FROM bench.t" 2>/dev/null)" = "$ROWS" ]; then
		log "reusing $SRC_PG ($ROWS rows)"
	else
		log "generating $ROWS rows in PostgreSQL ($SRC_PG)"
		fresh_pg_database "$MIGRATE_PG_URL" "$SRC_PG"
		pg "$src" -c "CREATE SCHEMA bench" -c "$PG_TABLE_DDL"
		fill_in_steps pg_fill_sql pg "$src"
		# Hint bits and visibility map set now, so that neither run pays for them.
		pg "$src" -c "VACUUM (FREEZE, ANALYZE) bench.t"
	fi
	keep_sources || drop_after "pg:$SRC_PG"
	size=$(pg_value "$src" "SELECT pg_size_pretty(pg_table_size('bench.t')) || ' table + ' || pg_size_pretty(pg_indexes_size('bench.t')) || ' index'")
	say "(a) source: bench.t in PostgreSQL, $size"
	# Both readers find the table in the OS cache: read it once first.
	pg "$src" -c "SELECT count(*) FROM bench.t" >/dev/null

	fresh_pg_database "$MIGRATE_PG_URL" "$DST_PIPE"
	drop_after "pg:$DST_PIPE"
	pg "$(pg_db "$DST_PIPE")" -c "CREATE SCHEMA bench" -c "$PG_TABLE_DDL"
	log "(a) psql \\copy pipe"
	t0=$(now_ns)
	pg "$src" -c '\copy bench.t to stdout' | pg "$(pg_db "$DST_PIPE")" -c '\copy bench.t from stdin'
	pipe_secs=$(seconds_since "$t0")
	target_rows "$(pg_db "$DST_PIPE")" bench.t
	say "(a) psql \\copy pipe:    $pipe_secs s ($(rate "$pipe_secs") rows/s)"
	drop_pg_database "$MIGRATE_PG_URL" "$DST_PIPE"

	fresh_pg_database "$MIGRATE_PG_URL" "$DST_PG"
	drop_after "pg:$DST_PG"
	staging pg
	log "(a) migrate replicate"
	run_migrate pg-to-pg replicate --source "$src" --target "$(pg_db "$DST_PG")" "${STAGING_ARGS[@]}" \
		--no-validate --progress never --output json || die "(a) migrate replicate failed"
	migrate_secs=$SECS a_rss=$RSS_MB
	target_rows "$(pg_db "$DST_PG")" bench.t
	validate pg-to-pg-validate "$src" "$(pg_db "$DST_PG")"
	drop_pg_database "$MIGRATE_PG_URL" "$DST_PG"
	rm -rf "$(run_dir)/bench/pg"

	r=$(ratio "$migrate_secs" "$pipe_secs")
	say "(a) migrate replicate:  $migrate_secs s ($(rate "$migrate_secs") rows/s), peak RSS $a_rss MB"
	say "(a) ratio migrate/pipe: $r (target <= 1.25: $(verdict "$r <= 1.25"))"
	say "(a) migrate validate:   $VALIDATION"
fi

# ---- (b) MariaDB -> PostgreSQL
if want_part b; then
	src=$(my_db "$SRC_MY")
	if keep_sources && [ "$(my "$src" -N -e "SELECT count(*) FROM t" 2>/dev/null)" = "$ROWS" ]; then
		log "reusing $SRC_MY ($ROWS rows)"
	else
		log "generating $ROWS rows in MariaDB ($SRC_MY)"
		fresh_mysql_database "$MIGRATE_MYSQL_URL" "$SRC_MY"
		my "$src" -e "$MY_TABLE_DDL"
		fill_in_steps my_fill_sql my "$src"
		my "$src" -e "ANALYZE TABLE t" >/dev/null
	fi
	keep_sources || drop_after "my:$SRC_MY"
	size=$(my "$src" -N -e "SELECT CONCAT(ROUND(data_length / 1048576), ' MB data + ', ROUND(index_length / 1048576), ' MB index')
		FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 't'")
	say "(b) source: t in MariaDB, $size"
	my "$src" -e "SELECT count(*) FROM t" >/dev/null

	if ! command -v pgloader >/dev/null; then apt_install pgloader; fi
	fresh_pg_database "$MIGRATE_PG_URL" "$DST_PGLOADER"
	drop_after "pg:$DST_PGLOADER"
	# pgloader's defaults, as a user would run it: create the table and its key, then copy.
	cat >"$WORK/mariadb.load" <<EOF
LOAD DATABASE
     FROM $src
     INTO postgresql://$(pg_db "$DST_PGLOADER" | sed 's#^[a-z]*://##')
 WITH include drop, create tables, create indexes, reset sequences
 SET PostgreSQL PARAMETERS maintenance_work_mem to '128MB'
;
EOF
	log "(b) pgloader"
	t0=$(now_ns)
	if ! /usr/bin/time -v -o "$WORK/pgloader.time" pgloader "$WORK/mariadb.load" \
		>"$WORK/pgloader.out" 2>&1; then
		tail -n 30 "$WORK/pgloader.out" >&2
		die "pgloader failed (output in $WORK/pgloader.out)"
	fi
	pgloader_secs=$(seconds_since "$t0")
	pgloader_rss=$(awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$WORK/pgloader.time")
	target_rows "$(pg_db "$DST_PGLOADER")" "$SRC_MY.t"
	say "(b) pgloader:             $pgloader_secs s ($(rate "$pgloader_secs") rows/s), peak RSS $pgloader_rss MB"
	drop_pg_database "$MIGRATE_PG_URL" "$DST_PGLOADER"

	fresh_pg_database "$MIGRATE_PG_URL" "$DST_MY"
	drop_after "pg:$DST_MY"
	staging mysql
	log "(b) migrate replicate"
	run_migrate mariadb-to-pg replicate --source "$src" --target "$(pg_db "$DST_MY")" "${STAGING_ARGS[@]}" \
		--no-validate --progress never --output json || die "(b) migrate replicate failed"
	migrate_secs=$SECS b_rss=$RSS_MB
	target_rows "$(pg_db "$DST_MY")" "$SRC_MY.t"
	validate mariadb-to-pg-validate "$src" "$(pg_db "$DST_MY")"
	drop_pg_database "$MIGRATE_PG_URL" "$DST_MY"
	rm -rf "$(run_dir)/bench/mysql"

	r=$(ratio "$pgloader_secs" "$migrate_secs")
	say "(b) migrate replicate:    $migrate_secs s ($(rate "$migrate_secs") rows/s), peak RSS $b_rss MB"
	say "(b) speed-up vs pgloader: $r (target >= 2: $(verdict "$r >= 2"))"
	say "(b) migrate validate:     $VALIDATION"
fi

say "(c) peak RSS of migrate: $peak_rss_mb MB (target < 500 MB: $(verdict "$peak_rss_mb < 500"))"
say "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
printf '%s\n' "${summary[@]}"
