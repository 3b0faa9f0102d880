#!/usr/bin/env bash
# Convert benchmark: `migrate convert --from oracle` on a synthetic DBMS_METADATA export of
# 10,000 tables (~200,000 columns), and on 1/4 and 1/2 of it to see how memory grows with input.
#
# Usage: bench/convert.sh [TABLES]   (TABLES defaults to 10000)
# Prints wall time and peak RSS of each run, best and median of RUNS runs per size, and peak RSS
# per table and per input byte. Results go in docs/benchmarks.md ("Convert").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tables=${1:-10000}
runs=${RUNS:-3}
target_dir=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin migrate
migrate=$target_dir/release/migrate

# The load average says whether other work shared the cores during the measurement.
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg); commit $(git -C "$root" rev-parse --short HEAD)"
summary=()
for size in $((tables / 4)) $((tables / 2)) "$tables"; do
    input=$work/oracle-$size.sql
    # The generator reports the column count on stderr: "N tables, M columns".
    columns=$(python3 "$root/bench/gen_ddl.py" "$size" "$input" 2>&1 | awk '{print $3}')
    bytes=$(stat -c %s "$input")
    echo "$size tables, $columns columns, $bytes bytes:"
    walls=()
    cpus=()
    rss_max=0
    for ((run = 1; run <= runs; run++)); do
        out=$work/out-$size-$run
        # Exit 1 means "findings need attention" (CLOBs, dropped storage clauses): expected here.
        # Only 2 ("could not run") or a crash fails the benchmark.
        status=0
        /usr/bin/time -v -o "$work/time" "$migrate" convert --from oracle -o "$out" "$input" \
            >/dev/null 2>"$work/stderr" || status=$?
        if ((status > 1)); then
            cat "$work/stderr" "$work/time" >&2
            echo "migrate convert exited $status on $size tables" >&2
            exit 1
        fi
        # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:01.23" -> seconds.
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
                   n = split($2, p, ":"); s = 0
                   for (i = 1; i <= n; i++) s = s * 60 + p[i]
                   print s }' "$work/time")
        # CPU time (user + system) is less disturbed than wall time when other work shares the cores.
        cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2} END {print s}' "$work/time")
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
        echo "  run $run: wall ${wall} s, cpu ${cpu} s, peak RSS $((rss / 1024)) MB (exit $status)"
        walls+=("$wall")
        cpus+=("$cpu")
        if ((rss > rss_max)); then rss_max=$rss; fi
        rm -rf "$out"
    done
    read -r best median < <(printf '%s\n' "${walls[@]}" | sort -g |
        awk '{v[NR] = $1} END {print v[1], v[int((NR + 1) / 2)]}')
    best_cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | head -1)
    summary+=("$(awk -v t="$size" -v c="$columns" -v b="$bytes" -v r="$runs" -v best="$best" \
        -v med="$median" -v cpu="$best_cpu" -v rss="$rss_max" 'BEGIN {
            printf "%-8d %9d %9.1f %5d %12.2f %9.2f %8.2f %12.1f %11.1f %10.1f\n",
                t, c, b / 1e6, r, best, med, cpu, rss / 1024, rss / t, rss * 1024 / b }')")
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# peak_RSS_MB is the largest of the runs; RSS/input is peak RSS divided by the input file size.
printf '%-8s %9s %9s %5s %12s %9s %8s %12s %11s %10s\n' \
    tables columns input_MB runs best_wall_s median_s best_cpu peak_RSS_MB RSS_KB/tbl RSS/input
printf '%s\n' "${summary[@]}"
