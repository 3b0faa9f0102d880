#!/usr/bin/env bash
# Change data capture benchmark of `migrate replicate --cdc` against the baselines of
# docs/benchmarks.md, on the same server and the same change stream in one run:
#
#   (a) PostgreSQL -> PostgreSQL apply: a table of ROWS rows (default 1,000,000) loaded into two
#       targets, then UPDATES single-row updates (default 1,000,000; `UPDATE t SET v = v + 1
#       WHERE id = ...`, each row once when UPDATES <= ROWS, in a scattered key order, committed
#       every TXN_ROWS = 100 updates: 10,000 transactions). The workload is written ONCE while
#       every consumer's slot already exists and is stopped; then each consumer catches up from
#       its slot, one after the other: native logical replication (a subscription on a
#       pre-created pgoutput slot, copy_data = false, its target loaded with the same rows) and
#       `migrate replicate --cdc` (its slot made by its full load). Timed from the consumer's start
#       until a marker row committed after the workload is visible in its target; both targets
#       are then compared with the source. Target: migrate >= 2x native.
#   (b) Decode rate on the same change stream: `pg_recvlogical` (test_decoding, to /dev/null,
#       --endpos) vs migrate's decoding alone (crates/source-postgres/examples/decode_rate.rs:
#       ChangeSource::open_changes, counting the decoded row changes). Target: >= 1x.
#   (c) End-to-end lag at a steady RATE changes/s (default 5,000) for LAG_SECONDS (default 60):
#       pgbench --rate inserts rows stamped with clock_timestamp() at the source; the target table
#       has an extra column `applied_at DEFAULT clock_timestamp()`, filled when migrate's apply
#       inserts the row; lag per change = applied_at - stamp (same host, same clock).
#       Target: p99 < 5 s.
#   (d) MariaDB -> PostgreSQL: the same update workload on MariaDB (binlog ROW), migrate catching
#       up from the binlog position before it; changes/s.
#
#   bench/cdc.sh                                     # everything, 1M rows / 1M updates
#   ROWS=100000 UPDATES=100000 LAG_SECONDS=20 bench/cdc.sh   # a quick run
#   PARTS=a RUNS=3 bench/cdc.sh                      # (a) three times over, and the median ratio
#
# Environment:
#   ROWS=N UPDATES=N TXN_ROWS=N   table size, updates, updates per transaction (see (a))
#   RUNS=N                        (a)'s pairs of consumers (native, then migrate), every one
#                                 catching up on the same workload; each pair's ratio and their
#                                 median are printed (default 1: on this noisy host one pair's
#                                 ratio moves by 15% from run to run); each pair takes two
#                                 replication slots on the source (checked before anything runs)
#   RATE=N LAG_SECONDS=N          (c)'s steady rate and duration
#   PARTS="a b c d"               which parts to run (PARTS=b: the workload and (b) only)
#   BATCH_SECONDS=S BATCH_MIB=M   migrate's --batch-seconds / --batch-mib (default: migrate's)
#   APPLY_CONNECTIONS=N           migrate's --apply-connections (default 2: one per core here)
#   DECODE_RATE_BIN=PATH          (b)'s decoder, instead of a release build of the decode_rate example
#   MIGRATE_BIN=PATH  use this migrate binary instead of a release build of this checkout
# Servers: MIGRATE_PG_URL (wal_level=logical) / MIGRATE_MYSQL_URL (binlog_format=ROW) if set,
# else scenarios/servers/*.sh start them (and this script stops them at the end). A PostgreSQL
# URL naming a socket directory (postgres://postgres@%2Fdir:port/postgres) runs every consumer,
# native and migrate, through that server's Unix-domain socket. The PostgreSQL
# targets live on a second server, as in a migration: MIGRATE_PG_TARGET_URL if set, else a second
# private instance of scenarios/servers/postgres.sh (under the run dir's bench-cdc/target-server).
# On one server, a consumer's walsender would also read the WAL its own apply writes to the target
# (every WAL record of the cluster passes through logical decoding): that cost is an artefact of
# sharing the server, and it is larger the faster the consumer reads. SAME_SERVER=1 puts the
# targets on the source server anyway. Databases are
# named migrate_cdcbench_*; they, the slots, publications and subscriptions are dropped at the end.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scenarios/replicate/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scenarios/replicate/lib.sh"

ROWS=${ROWS:-1000000}
UPDATES=${UPDATES:-1000000}
TXN_ROWS=${TXN_ROWS:-100}
RATE=${RATE:-5000}
LAG_SECONDS=${LAG_SECONDS:-60}
APPLY_CONNECTIONS=${APPLY_CONNECTIONS:-2}
RUNS=${RUNS:-1}
PARTS=${PARTS:-a b c d}
for v in ROWS UPDATES TXN_ROWS RATE LAG_SECONDS APPLY_CONNECTIONS RUNS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
want_part() { [[ " $PARTS " == *" $1 "* ]]; }
# (b) alone (PARTS=b) writes the workload and decodes it, without (a)'s consumers.
# A multiplier coprime with ROWS: id = 1 + (i * STEP) % ROWS visits every row once per ROWS updates,
# in an order that is not the table's.
STEP=7919
[ $((ROWS % STEP)) -ne 0 ] || STEP=7927
BATCH_ARGS=()
[ -z "${BATCH_SECONDS:-}" ] || BATCH_ARGS+=(--batch-seconds "$BATCH_SECONDS")
[ -z "${BATCH_MIB:-}" ] || BATCH_ARGS+=(--batch-mib "$BATCH_MIB")
BATCH_ARGS+=(--apply-connections "$APPLY_CONNECTIONS")

SRC=migrate_cdcbench_src
DST_NATIVE=migrate_cdcbench_native
DST_MIGRATE=migrate_cdcbench_migrate
SRC_LAG=migrate_cdcbench_lag_src
DST_LAG=migrate_cdcbench_lag
SRC_MY=migrate_cdcbench_my
DST_MY=migrate_cdcbench_my
TASK=cdcbench
DECODE_TASK=cdcbench_decode
NATIVE_SLOT=cdcbench_native
RECV_SLOT=cdcbench_recvlogical
# migrate's slot and publication names: migrate_<database>_<task> (capture_name).
DECODE_SLOT=migrate_${SRC}_$DECODE_TASK
WORK=$(run_dir)/bench-cdc
mkdir -p "$WORK"

if want_part a || want_part c || want_part d; then build_migrate; fi
PG_BIN=${MIGRATE_PG_BIN:-/usr/lib/postgresql/15/bin}
for tool in pg_recvlogical pgbench; do
	[ -x "$PG_BIN/$tool" ] || command -v "$tool" >/dev/null ||
		die "$tool is missing: install postgresql-15 / postgresql-client-15 (or set MIGRATE_PG_BIN)"
done
tool() { if [ -x "$PG_BIN/$1" ]; then echo "$PG_BIN/$1"; else command -v "$1"; fi; }

use_server postgres MIGRATE_PG_URL
want_part d && use_server mariadb MIGRATE_MYSQL_URL
TARGET_SERVER_STARTED=
if [ -n "${SAME_SERVER:-}" ]; then
	MIGRATE_PG_TARGET_URL=$MIGRATE_PG_URL
elif [ -z "${MIGRATE_PG_TARGET_URL:-}" ]; then
	TARGET_SERVER_STARTED=1
	MIGRATE_PG_TARGET_URL=$(MIGRATE_RUN_DIR=$WORK/target-server "$SERVERS_DIR/postgres.sh" start) ||
		die "could not start the target PostgreSQL server (MIGRATE_RUN_DIR=$WORK/target-server scenarios/servers/postgres.sh start)"
fi
[ "$MIGRATE_PG_TARGET_URL" != "$MIGRATE_PG_URL" ] || log "the targets share the source's PostgreSQL server"
pg_db() { with_database "$MIGRATE_PG_URL" "$1"; }
tgt_db() { with_database "$MIGRATE_PG_TARGET_URL" "$1"; }
my_db() { with_database "$MIGRATE_MYSQL_URL" "$1"; }

# drop_slots DB...: drops the (inactive) replication slots of these databases: they hold WAL, and
# a database with a slot can't be dropped.
drop_slots() {
	local db list=
	for db in "$@"; do list+="${list:+, }'$db'"; done
	pg "$MIGRATE_PG_URL" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
		WHERE database IN ($list) AND NOT active" >/dev/null
}

# drop_subscription URL: drops a native target's subscription (its slot is left to drop_slots).
drop_subscription() {
	pg "$1" -c "ALTER SUBSCRIPTION cdcbench DISABLE" -c "ALTER SUBSCRIPTION cdcbench SET (slot_name = NONE)" \
		-c "DROP SUBSCRIPTION cdcbench"
}

migrate_pids=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local rc=$? pid db
	for pid in "${migrate_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	# Subscriptions first (they hold their slot), then slots (they hold WAL), then databases.
	for run in $(seq "$RUNS"); do drop_subscription "$(tgt_db "$DST_NATIVE$run")" >/dev/null 2>&1 || true; done
	drop_slots "$SRC" "$SRC_LAG" >/dev/null 2>&1 || true
	for db in "$SRC" "$SRC_LAG"; do
		drop_pg_database "$MIGRATE_PG_URL" "$db" >/dev/null 2>&1 || true
	done
	for db in "$DST_LAG" "$DST_MY" $(for run in $(seq "$RUNS"); do echo "$DST_NATIVE$run $DST_MIGRATE$run"; done); do
		drop_pg_database "$MIGRATE_PG_TARGET_URL" "$db" >/dev/null 2>&1 || true
	done
	[ -z "$TARGET_SERVER_STARTED" ] || MIGRATE_RUN_DIR=$WORK/target-server "$SERVERS_DIR/postgres.sh" stop || true
	if want_part d; then drop_mysql_database "$MIGRATE_MYSQL_URL" "$SRC_MY" || true; fi
	rm -rf "$WORK"/staging-a* "$WORK/staging-c" "$WORK/staging-d"
	stop_started_servers
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

summary=()
say() {
	summary+=("$*")
	echo "bench: $*" >&2
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "NOT met"; fi; }

# wait_for URL SQL TIMEOUT: polls SQL (a boolean query) every 50 ms until it is true; fails after
# TIMEOUT s. The loop runs in the server, in one session: a psql started 20 times a second would
# take CPU from the consumer it times (a consumer that keeps both cores busy the most).
wait_for() {
	pg "$1" -c "DO \$wait\$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '$3 seconds';
BEGIN
	LOOP
		BEGIN
			IF ($2) THEN RETURN; END IF;
		EXCEPTION WHEN undefined_table OR invalid_schema_name THEN
			NULL; -- not created yet
		END;
		IF clock_timestamp() > deadline THEN
			RAISE EXCEPTION 'timed out';
		END IF;
		COMMIT; -- a new snapshot, and no old one held while the consumer writes
		PERFORM pg_sleep(0.05);
	END LOOP;
END \$wait\$" >/dev/null 2>&1
}

# run_cdc LABEL ARGS...: migrate replicate --cdc in the background (output in WORK/LABEL.*); sets PID.
run_cdc() {
	local label=$1
	shift
	"$MIGRATE" replicate --cdc --progress never --output json "$@" \
		>"$WORK/$label.out" 2>"$WORK/$label.err" &
	PID=$!
	migrate_pids+=("$PID")
}
# finish LABEL PID: waits for migrate to end; fails with its log when it failed.
finish() {
	if ! wait "$2"; then
		tail -n 20 "$WORK/$1.err" >&2
		die "$1: migrate failed (output in $WORK/$1.out and .err)"
	fi
}

say "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
# The walsender's cost over loopback depends on the kernel's TCP congestion control (bbr's
# start-up can hold its sends to a few large segments; past it, each change is a segment of its
# own: docs/benchmarks.md), so runs on different hosts compare only with it in view.
say "TCP congestion control: $(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo unknown)"
built="not needed"
[ -z "${MIGRATE:-}" ] || built="$MIGRATE ($("$MIGRATE" --version))"
say "migrate: $built, $("$PG_BIN/postgres" --version 2>/dev/null || echo postgres)"
[ "$(pg_value "$MIGRATE_PG_URL" "SHOW wal_level")" = logical ] || die "the PostgreSQL server needs wal_level = logical"
# Replication slots this run holds on the source at once: (a)/(b) two for the decoders and (a)
# two per run (native's and migrate's), all dropped before (c), which makes one.
slots_needed=0
! want_part c || slots_needed=1
if want_part a || want_part b; then
	ab_slots=2
	! want_part a || ab_slots=$((ab_slots + 2 * RUNS))
	[ "$ab_slots" -le "$slots_needed" ] || slots_needed=$ab_slots
fi
slots_free=$(pg_value "$MIGRATE_PG_URL" "SELECT current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)")
[ "$slots_needed" -le "$slots_free" ] ||
	die "this run needs $slots_needed replication slots and the source has $slots_free free (max_replication_slots minus the slots in pg_replication_slots): lower RUNS, drop unused slots, or raise max_replication_slots"

# The table of (a), (b) and (d) in PostgreSQL; the marker table whose row, committed after the
# workload, tells that a consumer has applied everything before it.
PG_DDL="CREATE SCHEMA bench;
CREATE TABLE bench.t (id bigint PRIMARY KEY, v bigint NOT NULL, qty integer NOT NULL,
                      note text, updated_at timestamptz NOT NULL);
CREATE TABLE bench.done (id integer PRIMARY KEY);"

# ---- (a) PostgreSQL -> PostgreSQL apply, and (b) decode rate on the same stream
if want_part a || want_part b; then
	src=$(pg_db "$SRC")
	log "(a) $ROWS rows in $SRC"
	fresh_pg_database "$MIGRATE_PG_URL" "$SRC"
	pg "$src" -c "$PG_DDL" -c "INSERT INTO bench.t SELECT g, g, g % 1000, 'row ' || g || ' of the benchmark',
		timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' FROM generate_series(1, $ROWS) g" \
		-c "VACUUM (FREEZE, ANALYZE) bench.t"

	if want_part a; then
		pg "$src" -c "CREATE PUBLICATION cdcbench FOR TABLE bench.t, bench.done" >/dev/null
		staging_a=() # each run's staging directory, by run
		for run in $(seq "$RUNS"); do
			# migrate's full load makes its slot and publication (migrate_<database>_<task>) and
			# the target tables.
			fresh_pg_database "$MIGRATE_PG_TARGET_URL" "$DST_MIGRATE$run"
			local_staging "bench-cdc/staging-a$run"
			staging_a[run]=${STAGING_ARGS[1]} # local_staging's (--staging DIR)
			log "(a) migrate full load $run of $RUNS (creates its slot)"
			run_cdc "a-load$run" --source "$src" --target "$(tgt_db "$DST_MIGRATE$run")" "${STAGING_ARGS[@]}" \
				--name "$TASK$run" --stop-when-idle 1
			finish "a-load$run" "$PID"

			# Native: a pgoutput slot made now, the same rows copied into an identical target,
			# then a disabled subscription on that slot (no initial copy: the target has the rows
			# already).
			fresh_pg_database "$MIGRATE_PG_TARGET_URL" "$DST_NATIVE$run"
			native=$(tgt_db "$DST_NATIVE$run")
			pg "$src" -c "SELECT pg_create_logical_replication_slot('$NATIVE_SLOT$run', 'pgoutput')" >/dev/null
			pg "$native" -c "$PG_DDL"
			pg "$src" -c '\copy bench.t to stdout' | pg "$native" -c '\copy bench.t from stdin'
			pg "$native" -c "CREATE SUBSCRIPTION cdcbench CONNECTION '$src' PUBLICATION cdcbench
				WITH (create_slot = false, slot_name = '$NATIVE_SLOT$run', copy_data = false, enabled = false)"
		done
	fi

	# (b)'s slots: test_decoding for pg_recvlogical, and a pgoutput slot + publication under the
	# decode task's capture name for migrate's decoder.
	pg "$src" -c "CREATE PUBLICATION $DECODE_SLOT FOR ALL TABLES" >/dev/null
	decode_from=$(pg_value "$src" "SELECT lsn FROM pg_create_logical_replication_slot('$DECODE_SLOT', 'pgoutput')")
	pg_value "$src" "SELECT pg_create_logical_replication_slot('$RECV_SLOT', 'test_decoding')" >/dev/null

	log "(a) workload: $UPDATES single-row updates, $TXN_ROWS per transaction"
	t0=$(now_ns)
	pg "$src" -c "DO \$\$
		BEGIN
			FOR i IN 0..$((UPDATES - 1)) LOOP
				UPDATE bench.t SET v = v + 1 WHERE id = 1 + (i::bigint * $STEP) % $ROWS;
				IF i % $TXN_ROWS = $((TXN_ROWS - 1)) THEN COMMIT; END IF;
			END LOOP;
		END \$\$"
	workload_secs=$(seconds_since "$t0")
	# The marker transaction; the LSN read inside it is below its commit and above every update.
	end_lsn=$(pg "$src" -qAt -c "BEGIN" -c "INSERT INTO bench.done VALUES (1)" \
		-c "SELECT pg_current_wal_insert_lsn()" -c "COMMIT")
	wal=$(pg_value "$src" "SELECT pg_size_pretty(pg_wal_lsn_diff('$end_lsn', '$decode_from'))")
	say "(a) workload: $UPDATES updates in $((UPDATES / TXN_ROWS)) transactions written in $workload_secs s ($wal of WAL)"
	expected=$(pg_value "$src" "SELECT sum(v) FROM bench.t")
	# Each consumer runs on an idle host: the workload's dead rows are vacuumed now, not by an
	# autovacuum during the first consumer's run (and the native target's, below, before migrate's).
	pg "$src" -c "VACUUM bench.t"

	if want_part a; then
		ratios=()
		for run in $(seq "$RUNS"); do
			native=$(tgt_db "$DST_NATIVE$run")
			log "(a) run $run of $RUNS: native logical replication catching up"
			t0=$(now_ns)
			pg "$native" -c "ALTER SUBSCRIPTION cdcbench ENABLE"
			wait_for "$native" "SELECT count(*) = 1 FROM bench.done" 3600 || die "(a) native replication did not catch up within an hour"
			native_secs=$(seconds_since "$t0")
			pg "$native" -c "ALTER SUBSCRIPTION cdcbench DISABLE"
			[ "$(pg_value "$native" "SELECT sum(v) FROM bench.t")" = "$expected" ] || die "(a) the native target differs from the source"
			pg "$native" -c "VACUUM bench.t"
			say "(a) native (publication + subscription): $native_secs s, $(per_second "$UPDATES" "$native_secs") changes/s"

			log "(a) run $run of $RUNS: migrate replicate --cdc catching up"
			migrated=$(tgt_db "$DST_MIGRATE$run")
			t0=$(now_ns)
			# The staging of its full load.
			run_cdc "a-cdc$run" --source "$src" --target "$migrated" --staging "${staging_a[run]}" --name "$TASK$run" \
				--stop-when-idle 2 "${BATCH_ARGS[@]}"
			if ! wait_for "$migrated" "SELECT count(*) = 1 FROM bench.done" 3600; then
				tail -n 20 "$WORK/a-cdc$run.err" >&2
				die "(a) migrate did not catch up within an hour"
			fi
			migrate_secs=$(seconds_since "$t0")
			finish "a-cdc$run" "$PID"
			[ "$(pg_value "$migrated" "SELECT sum(v) FROM bench.t")" = "$expected" ] ||
				die "(a) migrate's target differs from the source"
			pg "$migrated" -c "VACUUM bench.t"
			batches=$(grep -c '"changes_per_second"' "$WORK/a-cdc$run.err" || true)
			r=$(ratio "$native_secs" "$migrate_secs")
			ratios+=("$r")
			say "(a) migrate replicate --cdc:            $migrate_secs s, $(per_second "$UPDATES" "$migrate_secs") changes/s ($batches batches, ${BATCH_ARGS[*]}; process start to marker visible)"
			say "(a) speed-up vs native: ${r}x (target >= 2: $(verdict "$r >= 2"))"
		done
		if [ "$RUNS" -gt 1 ]; then
			median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1 } END { printf "%.2f", NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2 }')
			say "(a) speed-up vs native over $RUNS runs: ${ratios[*]}; median ${median}x (target >= 2: $(verdict "$median >= 2"))"
		fi
	fi

	if want_part b; then
		log "(b) pg_recvlogical (test_decoding) to /dev/null"
		t0=$(now_ns)
		"$(tool pg_recvlogical)" -d "$src" --slot "$RECV_SLOT" --start --endpos "$end_lsn" --no-loop \
			-o skip-empty-xacts=1 -f /dev/null
		recv_secs=$(seconds_since "$t0")
		say "(b) pg_recvlogical (test_decoding):   $recv_secs s, $(per_second "$UPDATES" "$recv_secs") changes/s"
		log "(b) migrate's decoder (examples/decode_rate)"
		decode_rate=${DECODE_RATE_BIN:-}
		if [ -z "$decode_rate" ]; then
			(cd "$REPO_ROOT" && cargo build --release --locked --quiet -p migrate-source-postgres --example decode_rate) ||
				die "building the decode_rate example failed"
			decode_rate=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/examples/decode_rate
		fi
		t0=$(now_ns)
		line=$("$decode_rate" "$src" "$DECODE_TASK" \
			"$decode_from" "$end_lsn" bench)
		decode_secs=$(seconds_since "$t0")
		decoded=$(sed -E 's/.*rows=([0-9]+).*/\1/' <<<"$line")
		[ "$decoded" -eq $((UPDATES + 1)) ] || die "(b) migrate decoded $decoded row changes, expected $((UPDATES + 1)): $line"
		r=$(ratio "$recv_secs" "$decode_secs")
		say "(b) migrate decoding (pgoutput binary): $decode_secs s, $(per_second "$UPDATES" "$decode_secs") changes/s (process start to the end position; $line)"
		say "(b) ratio vs pg_recvlogical: ${r}x (target >= 1: $(verdict "$r >= 1"))"
	fi
	# The slots hold the workload's WAL: free it now.
	if want_part a; then
		for run in $(seq "$RUNS"); do
			drop_subscription "$(tgt_db "$DST_NATIVE$run")" >/dev/null
			drop_pg_database "$MIGRATE_PG_TARGET_URL" "$DST_NATIVE$run"
			drop_pg_database "$MIGRATE_PG_TARGET_URL" "$DST_MIGRATE$run"
		done
	fi
	drop_slots "$SRC"
	drop_pg_database "$MIGRATE_PG_URL" "$SRC"
	rm -rf "$WORK"/staging-a*
fi

# ---- (c) end-to-end lag at a steady rate
if want_part c; then
	src=$(pg_db "$SRC_LAG")
	dst=$(tgt_db "$DST_LAG")
	fresh_pg_database "$MIGRATE_PG_URL" "$SRC_LAG"
	fresh_pg_database "$MIGRATE_PG_TARGET_URL" "$DST_LAG"
	pg "$src" -c "CREATE TABLE public.lag (id bigserial PRIMARY KEY, stamped_at timestamptz NOT NULL, payload text)"
	local_staging bench-cdc/staging-c
	run_cdc c-load --source "$src" --target "$dst" "${STAGING_ARGS[@]}" --name "${TASK}_lag" --stop-when-idle 1
	finish c-load "$PID"
	# Filled by the apply's INSERT (which names its columns), i.e. when the change reaches the target.
	pg "$dst" -c "ALTER TABLE public.lag ADD COLUMN applied_at timestamptz DEFAULT clock_timestamp()"
	run_cdc c-cdc --source "$src" --target "$dst" "${STAGING_ARGS[@]}" --name "${TASK}_lag" "${BATCH_ARGS[@]}"
	cdc_pid=$PID
	echo "INSERT INTO public.lag (stamped_at, payload) VALUES (clock_timestamp(), 'change ' || :client_id);" \
		>"$WORK/lag.sql"
	log "(c) pgbench: $RATE inserts/s for $LAG_SECONDS s"
	"$(tool pgbench)" -n -f "$WORK/lag.sql" --rate "$RATE" -T "$LAG_SECONDS" -c 4 -j 2 "$src" \
		>"$WORK/pgbench.out" 2>&1 || {
		cat "$WORK/pgbench.out" >&2
		die "(c) pgbench failed"
	}
	sent=$(pg_value "$src" "SELECT count(*) FROM public.lag")
	if ! wait_for "$dst" "SELECT count(*) = $sent FROM public.lag" 300; then
		tail -n 20 "$WORK/c-cdc.err" >&2
		die "(c) migrate did not apply the $sent changes within 5 minutes of the workload's end"
	fi
	kill -TERM "$cdc_pid"
	finish c-cdc "$cdc_pid"
	achieved=$(per_second "$sent" "$LAG_SECONDS")
	read -r p50 p99 max < <(pg_value "$dst" "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l)::numeric, 3),
			round(percentile_cont(0.99) WITHIN GROUP (ORDER BY l)::numeric, 3), round(max(l)::numeric, 3)
		FROM (SELECT extract(epoch FROM applied_at - stamped_at) AS l FROM public.lag) x" | tr '|' ' ')
	say "(c) steady load: $sent inserts in $LAG_SECONDS s ($achieved changes/s; pgbench: $(grep -E '^(tps|latency average)' "$WORK/pgbench.out" | tr '\n' ' '))"
	say "(c) lag source commit -> target row: p50 $p50 s, p99 $p99 s, max $max s (target p99 < 5 s: $(verdict "$p99 < 5"))"
	# Standard error also holds log lines (warnings): only the lines that are JSON are metrics.
	batch_lags=$(jq -rR 'fromjson? | select(.target_lag_seconds != null) | .target_lag_seconds' "$WORK/c-cdc.err" 2>/dev/null | sort -g)
	if [ -n "$batch_lags" ]; then
		say "(c) migrate's status lines: $(wc -l <<<"$batch_lags") batches, target_lag_seconds p50 $(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' <<<"$batch_lags") s, max $(tail -n 1 <<<"$batch_lags") s"
	fi
	drop_slots "$SRC_LAG"
	drop_pg_database "$MIGRATE_PG_URL" "$SRC_LAG"
	drop_pg_database "$MIGRATE_PG_TARGET_URL" "$DST_LAG"
	rm -rf "$WORK/staging-c"
fi

# ---- (d) MariaDB -> PostgreSQL
if want_part d; then
	src=$(my_db "$SRC_MY")
	dst=$(tgt_db "$DST_MY")
	log "(d) $ROWS rows in MariaDB $SRC_MY"
	fresh_mysql_database "$MIGRATE_MYSQL_URL" "$SRC_MY"
	fresh_pg_database "$MIGRATE_PG_TARGET_URL" "$DST_MY"
	my "$src" -e "CREATE TABLE t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, qty INT NOT NULL, note TEXT,
			updated_at TIMESTAMP(6) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
		CREATE TABLE done (id INT PRIMARY KEY) ENGINE=InnoDB;
		SET time_zone = '+00:00';
		INSERT INTO t SELECT seq, seq, seq % 1000, CONCAT('row ', seq, ' of the benchmark'),
			TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_$ROWS;"
	local_staging bench-cdc/staging-d
	run_cdc d-load --source "$src" --target "$dst" "${STAGING_ARGS[@]}" --name "${TASK}_my" --stop-when-idle 1
	finish d-load "$PID"
	log "(d) workload: $UPDATES single-row updates, $TXN_ROWS per transaction"
	t0=$(now_ns)
	# A stored procedure commits every TXN_ROWS updates, as (a)'s DO block does.
	my "$src" <<EOF
DELIMITER //
CREATE PROCEDURE work() BEGIN
	DECLARE i BIGINT DEFAULT 0;
	START TRANSACTION;
	WHILE i < $UPDATES DO
		UPDATE t SET v = v + 1 WHERE id = 1 + MOD(i * $STEP, $ROWS);
		SET i = i + 1;
		IF MOD(i, $TXN_ROWS) = 0 THEN COMMIT; START TRANSACTION; END IF;
	END WHILE;
	COMMIT;
END//
DELIMITER ;
CALL work();
DROP PROCEDURE work;
INSERT INTO done VALUES (1);
EOF
	say "(d) workload: $UPDATES updates written to MariaDB in $(seconds_since "$t0") s"
	expected=$(my "$src" -N -e "SELECT sum(v) FROM t")
	t0=$(now_ns)
	run_cdc d-cdc --source "$src" --target "$dst" "${STAGING_ARGS[@]}" --name "${TASK}_my" \
		--stop-when-idle 2 "${BATCH_ARGS[@]}"
	if ! wait_for "$dst" "SELECT count(*) = 1 FROM $SRC_MY.done" 3600; then
		tail -n 20 "$WORK/d-cdc.err" >&2
		die "(d) migrate did not catch up within an hour"
	fi
	my_secs=$(seconds_since "$t0")
	finish d-cdc "$PID"
	[ "$(pg_value "$dst" "SELECT sum(v) FROM $SRC_MY.t")" = "$expected" ] || die "(d) migrate's target differs from the source"
	say "(d) MariaDB -> PostgreSQL migrate replicate --cdc: $my_secs s, $(per_second "$UPDATES" "$my_secs") changes/s"
fi

say "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
printf '%s\n' "${summary[@]}"
