#!/usr/bin/env bash
# File-copy benchmark of `migrate copy` against `rclone copy`, same data, same S3 server, same run:
#
#   (a) 20,000 files of 4 KiB (nested in 100 directories), local -> S3. Target: migrate >= 1.5x
#       rclone's throughput.
#   (b) 4 files of 1 GiB, local -> S3 (multipart). Target: migrate >= 1.0x rclone.
#   (c) listing 1,000,000 paths (a local tree of empty files, planned with --dry-run against an
#       empty S3 prefix): peak RSS under 300 MB.
#
# Both tools run with the same parallelism (PAR, default 16: migrate -m, rclone --transfers and
# --checkers) and the same part size (16 MiB), both verify MD5s (rclone by default; migrate always).
# Elapsed time and peak RSS come from /usr/bin/time -v. All data (local and on S3) is deleted at
# the end; the big files need 4 GiB of local disk for the duration of (b).
#
#   bench/copy.sh                 # everything
#   PARTS="a b" bench/copy.sh     # skip the 1M listing
#
# Environment: PARTS (default "a b c"), PAR (16), SMALL_FILES (20000), BIG_GIB (1), LIST_PATHS
# (1000000), MIGRATE_BIN (default: a release build of this checkout, built if missing),
# MIGRATE_S3_URL (else scenarios/servers/s3.sh starts SeaweedFS), BENCH_DIR (scratch, default a
# temp dir). rclone: the Debian package, installed with apt-get when missing (as root).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PARTS=${PARTS:-a b c}
PAR=${PAR:-16}
SMALL_FILES=${SMALL_FILES:-20000}
BIG_GIB=${BIG_GIB:-1}
LIST_PATHS=${LIST_PATHS:-1000000}
want() { [[ " $PARTS " == *" $1 "* ]]; }
log() { printf 'bench/copy.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

command -v rclone >/dev/null || {
	[ "$(id -u)" -eq 0 ] || die "rclone is missing: sudo apt-get install rclone"
	log "installing rclone (Debian package)"
	DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get -qq -y install --no-install-recommends rclone >/dev/null
}
[ -x /usr/bin/time ] || die "/usr/bin/time (Debian package time) is needed for peak RSS"

MIGRATE=${MIGRATE_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/migrate}
if [ -z "${MIGRATE_BIN:-}" ]; then
	log "building migrate (release)"
	(cd "$repo" && cargo build --release --quiet -p migrate-cli)
fi
[ -x "$MIGRATE" ] || die "no migrate binary at $MIGRATE"

if [ -z "${MIGRATE_S3_URL:-}" ]; then
	"$repo/scenarios/servers/s3.sh" start >/dev/null
	eval "$("$repo/scenarios/servers/s3.sh" env)"
fi
# http://KEY:SECRET@HOST:PORT/BUCKET
rest=${MIGRATE_S3_URL#http://}
creds=${rest%%@*}
hostpath=${rest#*@}
export AWS_ACCESS_KEY_ID=${creds%%:*} AWS_SECRET_ACCESS_KEY=${creds#*:} AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_ENDPOINT_URL=http://${hostpath%%/*} AWS_ALLOW_HTTP=true
BUCKET=${hostpath#*/}
# rclone's remote "bench", configured from the environment (no config file).
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENV_AUTH=false
export RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_BENCH_ENDPOINT=$AWS_ENDPOINT_URL RCLONE_CONFIG_BENCH_REGION=$AWS_REGION

work=${BENCH_DIR:-$(mktemp -d /tmp/migrate-bench-copy.XXXXXX)}
mkdir -p "$work"
run_id=bench-copy-$$-$(date +%s)
cleanup() {
	log "cleaning up $work and s3://$BUCKET/$run_id"
	rm -rf "$work"
	env -u AWS_CA_BUNDLE rclone purge "bench:$BUCKET/$run_id" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# measure NAME CMD...: runs CMD under /usr/bin/time -v; sets SECS and RSS_MB.
measure() {
	local name=$1
	shift
	local tfile=$work/time.$name
	if ! /usr/bin/time -v -o "$tfile" "$@" >"$work/out.$name" 2>"$work/err.$name"; then
		tail -20 "$work/err.$name" >&2
		die "$name failed"
	fi
	local wall
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tfile")
	SECS=$(awk -v t="$wall" 'BEGIN { n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }')
	RSS_MB=$(awk '/Maximum resident set size/ { printf "%.0f", $NF / 1024 }' "$tfile")
	log "$name: ${SECS} s, peak RSS ${RSS_MB} MB"
}

# Options of each tool (/usr/bin/time runs programs, not shell functions).
MIGRATE_OPTS=(-m "$PAR" --part-size 16MiB --progress never --output json --state-dir "$work/state")
# env -u AWS_CA_BUNDLE: rclone 1.60 fails with "LoadCustomCABundleError" when it is set (some images do).
RCLONE_OPTS=(--transfers "$PAR" --checkers "$PAR" --s3-chunk-size 16M --s3-upload-concurrency 4)

ratio() { awk -v r="$1" -v m="$2" 'BEGIN { printf "%.2f", r / m }'; }

echo "| case | data | migrate s | migrate peak RSS MB | rclone s | rclone peak RSS MB | migrate speed-up |"
echo "|---|---|---|---|---|---|---|"

if want a; then
	log "(a) generating $SMALL_FILES files of 4 KiB"
	python3 - "$work/small" "$SMALL_FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"d{i % 100:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:06d}.bin"), "wb") as f:
        f.write(os.urandom(4096))
PY
	measure rclone-small env -u AWS_CA_BUNDLE rclone copy "$work/small" "bench:$BUCKET/$run_id/rclone-small" "${RCLONE_OPTS[@]}"
	r_s=$SECS r_rss=$RSS_MB
	measure migrate-small "$MIGRATE" copy "$work/small" "s3://$BUCKET/$run_id/migrate-small" "${MIGRATE_OPTS[@]}"
	m_s=$SECS m_rss=$RSS_MB
	grep -q '"failed": 0' "$work/out.migrate-small" || die "migrate reported failures: $(cat "$work/out.migrate-small")"
	echo "| (a) small files | $SMALL_FILES x 4 KiB | $m_s | $m_rss | $r_s | $r_rss | $(ratio "$r_s" "$m_s")x |"
	rm -rf "$work/small"
fi

if want b; then
	log "(b) generating 4 files of $BIG_GIB GiB"
	mkdir -p "$work/big"
	for i in 1 2 3 4; do
		head -c "$((BIG_GIB << 30))" /dev/urandom >"$work/big/big-$i.bin"
	done
	measure rclone-big env -u AWS_CA_BUNDLE rclone copy "$work/big" "bench:$BUCKET/$run_id/rclone-big" "${RCLONE_OPTS[@]}"
	r_s=$SECS r_rss=$RSS_MB
	env -u AWS_CA_BUNDLE rclone purge "bench:$BUCKET/$run_id/rclone-big" >/dev/null 2>&1 || true
	measure migrate-big "$MIGRATE" copy "$work/big" "s3://$BUCKET/$run_id/migrate-big" "${MIGRATE_OPTS[@]}"
	m_s=$SECS m_rss=$RSS_MB
	grep -q '"failed": 0' "$work/out.migrate-big" || die "migrate reported failures: $(cat "$work/out.migrate-big")"
	echo "| (b) big files | 4 x $BIG_GIB GiB | $m_s | $m_rss | $r_s | $r_rss | $(ratio "$r_s" "$m_s")x |"
	rm -rf "$work/big"
	env -u AWS_CA_BUNDLE rclone purge "bench:$BUCKET/$run_id/migrate-big" >/dev/null 2>&1 || true
fi

if want c; then
	log "(c) creating a tree of $LIST_PATHS empty files"
	python3 - "$work/list" "$LIST_PATHS" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per = 1000
for d in range((n + per - 1) // per):
    dd = os.path.join(root, f"p{d // 100:02d}", f"d{d:04d}")
    os.makedirs(dd, exist_ok=True)
    for i in range(min(per, n - d * per)):
        open(os.path.join(dd, f"file-{i:04d}.parquet"), "wb").close()
PY
	measure migrate-list "$MIGRATE" copy "$work/list" "s3://$BUCKET/$run_id/list-empty" --dry-run --progress never --output json
	files=$(sed -n 's/.*"files": \([0-9]*\).*/\1/p' "$work/out.migrate-list")
	[ "$files" = "$LIST_PATHS" ] || die "the plan counted $files files, not $LIST_PATHS"
	echo "| (c) listing + plan (dry run) | $LIST_PATHS paths | $SECS | $RSS_MB | | | |"
	rm -rf "$work/list"
fi
