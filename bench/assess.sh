#!/usr/bin/env bash
# Live assessment benchmark: `migrate assess --source` on a generated schema of TABLES tables
# (a primary key and 6 columns each, every tenth without a key), TABLES/10 views, TABLES/20
# functions and procedures and TABLES/20 triggers, on PostgreSQL and on MariaDB (the servers of
# scenarios/servers/, started if MIGRATE_PG_URL / MIGRATE_MYSQL_URL are not set).
#
# Usage: bench/assess.sh [TABLES]   (TABLES defaults to 1000; MIGRATE=binary to skip the build)
# Prints the wall time of discovery + preflight + assessment for each engine and fails if one
# takes LIMIT seconds or more (default 10). Results go in docs/benchmarks.md ("Assess").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tables=${1:-1000}
limit=${LIMIT:-10}
target_dir=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
db=bench_assess_$$
cleanup() {
    [ -n "${pg_admin:-}" ] && psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    [ -n "${my_args:-}" ] && mariadb "${my_args[@]}" -e "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# MIGRATE=path/to/migrate measures that binary instead of a fresh release build.
migrate=${MIGRATE:-}
if [ -z "$migrate" ]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin migrate
    migrate=$target_dir/release/migrate
fi
: "${MIGRATE_PG_URL:=$("$root/scenarios/servers/postgres.sh" start | tail -1)}"
: "${MIGRATE_MYSQL_URL:=$("$root/scenarios/servers/mariadb.sh" start | tail -1)}"
export PATH="${MIGRATE_PG_BIN:-/usr/lib/postgresql/15/bin}:$PATH"

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); commit $(git -C "$root" rev-parse --short HEAD)"

# The schema, in the dialect of each engine.
python3 - "$tables" "$work" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
for engine in ("pg", "my"):
    out = []
    for i in range(n):
        key = "" if i % 10 == 9 else "id INT PRIMARY KEY, "
        idcol = "id INT, " if i % 10 == 9 else ""
        out.append(f"CREATE TABLE t{i} ({key}{idcol}name VARCHAR(100) NOT NULL, amount NUMERIC(12,2), "
                   f"created TIMESTAMP, note TEXT, flag BOOLEAN);")
    for i in range(n // 10):
        out.append(f"CREATE VIEW v{i} AS SELECT a.id, a.name, b.amount FROM t{i} a JOIN t{i + 1} b ON a.id = b.id;")
    for i in range(n // 20):
        if engine == "pg":
            out.append(f"CREATE FUNCTION f{i}(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
                       f"IF x > 0 THEN EXECUTE format('SELECT count(*) FROM t{i}'); END IF; RETURN x + 1; END $$;")
            out.append(f"CREATE PROCEDURE p{i}() LANGUAGE plpgsql AS $$ BEGIN UPDATE t{i} SET flag = true; END $$;")
            out.append(f"CREATE FUNCTION trg_f{i}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created := now(); RETURN NEW; END $$;")
            out.append(f"CREATE TRIGGER trg{i} BEFORE INSERT ON t{i} FOR EACH ROW EXECUTE FUNCTION trg_f{i}();")
        else:
            out.append(f"CREATE FUNCTION f{i}(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;")
            out.append("DELIMITER //")
            out.append(f"CREATE PROCEDURE p{i}() BEGIN DECLARE CONTINUE HANDLER FOR NOT FOUND SET @done = 1; "
                       f"UPDATE t{i} SET flag = TRUE; END//")
            out.append("DELIMITER ;")
            out.append(f"CREATE TRIGGER trg{i} BEFORE INSERT ON t{i} FOR EACH ROW SET NEW.created = NOW();")
    open(f"{work}/{engine}.sql", "w").write("\n".join(out) + "\n")
PY

pg_admin=$MIGRATE_PG_URL
psql -q "$pg_admin" -c "CREATE DATABASE $db"
pg_url="${MIGRATE_PG_URL%/*}/$db"
psql -q "$pg_url" -f "$work/pg.sql" >/dev/null
psql -q "$pg_url" -c "ANALYZE" >/dev/null

# mysql://user:password@host:port/
rest=${MIGRATE_MYSQL_URL#*://}
creds=${rest%%@*}
hostport=${rest#*@}
hostport=${hostport%%/*}
my_args=(--protocol=tcp -h "${hostport%:*}" -P "${hostport##*:}" -u "${creds%%:*}")
[[ $creds == *:* ]] && my_args+=("-p${creds#*:}")
mariadb "${my_args[@]}" -e "CREATE DATABASE $db"
mariadb "${my_args[@]}" "$db" <"$work/my.sql"
my_url="${MIGRATE_MYSQL_URL%/}/$db"

status=0
for engine in postgres mariadb; do
    url=$pg_url
    [ "$engine" = mariadb ] && url=$my_url
    # Exit 1 means "needs attention" (tables without keys, triggers): expected here.
    code=0
    /usr/bin/time -v -o "$work/time" "$migrate" assess --source "$url" --format json \
        --out "$work/$engine.json" 2>"$work/stderr" || code=$?
    if ((code > 1)); then
        cat "$work/stderr" >&2
        exit 1
    fi
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
               n = split($2, p, ":"); s = 0
               for (i = 1; i <= n; i++) s = s * 60 + p[i]
               print s }' "$work/time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
    summary=$(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
s = d['summary']; k = s['by_kind']; p = d['preflight_totals']
get = lambda n: k.get(n, {}).get('total', 0)
print(f\"{get('table')} tables, {get('column')} columns, {get('view')} views, \"
      f\"{get('function') + get('procedure')} routines, {get('trigger')} triggers; \"
      f\"{s['objects']['total']} objects, {len(d['action_items'])} action items, \"
      f\"preflight {p['passed']} passed / {p['warning']} warnings / {p['blocker']} blockers\")
" "$work/$engine.json")
    echo "$engine: wall ${wall} s, peak RSS $((rss / 1024)) MB: $summary"
    if awk -v w="$wall" -v l="$limit" 'BEGIN { exit !(w >= l) }'; then
        echo "$engine: ${wall} s is not under ${limit} s" >&2
        status=1
    fi
done
exit $status
