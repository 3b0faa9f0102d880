#!/usr/bin/env bash
# Checksum benchmark: the validation checksum (migrate-checksum's SQL) over the same rows in
# PostgreSQL and MariaDB, against a plain hash of each row in the same engine:
#   PostgreSQL: md5(ROW(id, a, b, c, d)::text), hashed once per row, the same two sums;
#   MariaDB:    MD5(CONCAT_WS(',', id, a, b, c, d)), one sum.
# The table is (id int, a text, b decimal(10,2), c timestamp(6) with time zone, d double), ROWS
# rows (default 1,000,000), loaded by the test itself into fresh databases of the servers that
# `source /work/servers.env` (or scenarios/servers/*.sh) provides.
#
# Usage: bench/checksum.sh [ROWS]     (RUNS=3: the best run of each query counts)
# Prints, per engine, wall time and the server's CPU time for that session (from
# /proc/<backend pid or thread id>/stat; "n/a" when the server runs elsewhere) and the ratios.
# CPU time is the number to compare on a shared machine: wall time includes waiting for the
# cores. The test also asserts that both engines give the same checksum. Results go in
# docs/benchmarks.md ("Validation checksums") and docs/validation.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
export CHECKSUM_BENCH_ROWS=${1:-1000000}
export RUNS=${RUNS:-3}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); commit $(git -C "$root" rev-parse --short HEAD)"
cargo test --release --quiet --manifest-path "$root/Cargo.toml" -p migrate-checksum --test cost \
    -- --ignored --nocapture --test-threads 1 2>&1 | grep -v '^running \|^test result\|^\.*$'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
