#!/usr/bin/env bash
# `migrate catalog` benchmark: a Hive 4 metastore in MariaDB with TABLES tables of every kind and
# PARTITIONS partitions (default 120 and 10,000; crates/metastore-fixture), migrated to the Glue API
# of a local moto server, timed; then the same again (nothing to change: the cost of the
# comparison alone). Target: the first run under 60 s for 10,000 partitions.
#
#   bench/catalog.sh
#   PARTITIONS=50000 bench/catalog.sh
#
# Environment:
#   TABLES=N, PARTITIONS=N   size of the metastore (defaults 120, 10000)
#   CONCURRENCY=N            partition batches in flight (default 8, as migrate's default)
#   MIGRATE_BIN=PATH         use this migrate binary (default: a release build of this checkout)
#   MIGRATE_MYSQL_URL        MariaDB to use (default: scenarios/servers/mariadb.sh start)
#   MIGRATE_GLUE_URL         Glue endpoint to use (default: scenarios/servers/glue.sh start; a
#                            server this script started is stopped at the end)
# The metastore database (migrate_bench_hms_<pid>) is dropped at the end; the Glue databases are
# named bench_<pid>_* and deleted with the moto server when this script started it.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
servers=$repo/scenarios/servers
TABLES=${TABLES:-120}
PARTITIONS=${PARTITIONS:-10000}
CONCURRENCY=${CONCURRENCY:-8}
die() {
	echo "catalog.sh: error: $*" >&2
	exit 1
}
[[ $TABLES =~ ^[1-9][0-9]*$ && $PARTITIONS =~ ^[0-9]+$ ]] || die "TABLES and PARTITIONS must be numbers"

started_glue=
cleanup() {
	[ -z "${hms:-}" ] || mysql_cli -e "DROP DATABASE IF EXISTS \`$hms\`" || true
	[ -z "$started_glue" ] || "$servers/glue.sh" stop || true
}
trap cleanup EXIT

if [ -z "${MIGRATE_MYSQL_URL:-}" ]; then
	MIGRATE_MYSQL_URL=$("$servers/mariadb.sh" start)
fi
if [ -z "${MIGRATE_GLUE_URL:-}" ]; then
	"$servers/glue.sh" status >/dev/null 2>&1 || started_glue=1
	MIGRATE_GLUE_URL=$("$servers/glue.sh" start)
fi

# mysql://user:password@host:port/ -> client options.
rest=${MIGRATE_MYSQL_URL#mysql://}
userinfo=${rest%%@*}
hostport=${rest#*@}
hostport=${hostport%%/*}
mysql_cli() {
	MYSQL_PWD=${userinfo#*:} mariadb --no-defaults --batch --skip-column-names --protocol=TCP \
		--host="${hostport%:*}" --port="${hostport##*:}" --user="${userinfo%%:*}" "$@"
}

if [ -z "${MIGRATE_BIN:-}" ]; then
	echo "catalog.sh: building migrate and metastore-fixture (release)" >&2
	cargo build --release --locked -q -p migrate-cli -p migrate-metastore-fixture
	target=${CARGO_TARGET_DIR:-$repo/target}
	MIGRATE_BIN=$target/release/migrate
	FIXTURE_BIN=$target/release/metastore-fixture
else
	FIXTURE_BIN=${FIXTURE_BIN:-$(dirname "$MIGRATE_BIN")/metastore-fixture}
fi

hms=migrate_bench_hms_$$
prefix=bench_$$
mysql_cli -e "CREATE DATABASE \`$hms\`"
t0=$(date +%s.%N)
{
	"$FIXTURE_BIN" ddl mysql 4
	"$FIXTURE_BIN" data mysql 4 "$prefix" "$TABLES" "$PARTITIONS"
} | mysql_cli "$hms"
echo "metastore: $TABLES tables, $PARTITIONS partitions loaded in $(echo "$(date +%s.%N) - $t0" | bc) s" >&2

url="mysql://$userinfo@$hostport/$hms"
run() { # LABEL
	local start end
	start=$(date +%s.%N)
	env AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
		/usr/bin/time -f "%M" -o "/tmp/catalog-bench-rss.$$" \
		"$MIGRATE_BIN" catalog --metastore "$url" --glue-endpoint "$MIGRATE_GLUE_URL" \
		--database "${prefix}_*" --concurrency "$CONCURRENCY" \
		--location-map hdfs://nn:8020/warehouse=s3://lake/warehouse \
		--location-map hdfs://nn:8020/archive=s3://lake-archive/hive \
		--output json >"/tmp/catalog-bench-out.$$"
	end=$(date +%s.%N)
	local secs
	secs=$(echo "$end - $start" | bc)
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%s: %s s, outcome %s, partitions %s, tables %s, peak RSS %s MB" % (sys.argv[2], sys.argv[3], r["outcome"], {k:v for k,v in r["partitions"].items() if v}, {k:v for k,v in r["tables"].items() if v}, int(sys.argv[4])//1024))' \
		"/tmp/catalog-bench-out.$$" "$1" "$secs" "$(cat "/tmp/catalog-bench-rss.$$")"
	rm -f "/tmp/catalog-bench-out.$$" "/tmp/catalog-bench-rss.$$"
}
run "first run (everything created)"
run "second run (everything unchanged)"
