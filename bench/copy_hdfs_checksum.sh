#!/usr/bin/env bash
# Cost of comparing HDFS's file checksums in `migrate copy` (HDFS -> S3): the same copy with and
# without `--no-hdfs-checksum`, same data, same servers, same run.
#
#   (a) SMALL_FILES (default 2,000) files of 4 KiB: one WebHDFS GETFILECHECKSUM per file.
#   (b) BIG_FILES (default 2) files of BIG_MIB (default 256) MiB with Hadoop's default 128 MiB
#       blocks: with checksums, parts are raised from 16 MiB to 128 MiB (a multiple of the block
#       size), so peak memory grows with -m x 128 MiB; CRCs and block MD5s are computed.
#
# Elapsed time and peak RSS come from /usr/bin/time -v. The data is written through WebHDFS (CREATE
# with curl) and deleted from HDFS, S3 and the scratch dir at the end.
#
# Environment: PARTS (default "a b"), PAR (16), SMALL_FILES, BIG_FILES, BIG_MIB, MIGRATE_BIN
# (default: a release build of this checkout, built if missing), MIGRATE_HDFS_URL and
# MIGRATE_HDFS_HTTP_URL (else scenarios/servers/hdfs.sh starts HDFS), MIGRATE_S3_URL (else
# scenarios/servers/s3.sh starts SeaweedFS), BENCH_DIR (scratch, default a temp dir).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PARTS=${PARTS:-a b}
PAR=${PAR:-16}
SMALL_FILES=${SMALL_FILES:-2000}
BIG_FILES=${BIG_FILES:-2}
BIG_MIB=${BIG_MIB:-256}
want() { [[ " $PARTS " == *" $1 "* ]]; }
log() { printf 'bench/copy_hdfs_checksum.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
[ -x /usr/bin/time ] || die "/usr/bin/time (Debian package time) is needed for peak RSS"

MIGRATE=${MIGRATE_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/migrate}
if [ -z "${MIGRATE_BIN:-}" ]; then
	log "building migrate (release)"
	(cd "$repo" && cargo build --release --quiet -p migrate-cli)
fi
[ -x "$MIGRATE" ] || die "no migrate binary at $MIGRATE"

servers=$repo/scenarios/servers
if [ -z "${MIGRATE_HDFS_URL:-}" ]; then
	"$servers/hdfs.sh" start >/dev/null
	eval "$("$servers/hdfs.sh" env)"
fi
[ -n "${MIGRATE_HDFS_HTTP_URL:-}" ] || die "MIGRATE_HDFS_HTTP_URL (WebHDFS of MIGRATE_HDFS_URL) is not set"
if [ -z "${MIGRATE_S3_URL:-}" ]; then
	"$servers/s3.sh" start >/dev/null
	eval "$("$servers/s3.sh" env)"
fi
# http://KEY:SECRET@HOST:PORT/BUCKET
rest=${MIGRATE_S3_URL#http://}
creds=${rest%%@*}
hostpath=${rest#*@}
export AWS_ACCESS_KEY_ID=${creds%%:*} AWS_SECRET_ACCESS_KEY=${creds#*:} AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_ENDPOINT_URL=http://${hostpath%%/*} AWS_ALLOW_HTTP=true
BUCKET=${hostpath#*/}

scratch=${BENCH_DIR:-$(mktemp -d)}
run_id=bench-hdfs-$$-$(date +%s)
hdfs_root=$MIGRATE_HDFS_URL/$run_id
USER=${USER:-$(id -un)}
cleanup() {
	"$servers/hdfs.sh" fs -rm -r -f -skipTrash "$hdfs_root" >/dev/null 2>&1 || true
	"$MIGRATE" copy "$scratch/empty" "s3://$BUCKET/$run_id" --delete --progress never >/dev/null 2>&1 || true
	rm -rf "$scratch"
}
trap cleanup EXIT
mkdir -p "$scratch/empty"

# measure NAME ARGS...: prints "seconds rss_mb" of one migrate run, its summary line to stderr.
measure() {
	local name=$1
	shift
	/usr/bin/time -v -o "$scratch/$name.time" "$MIGRATE" copy "$@" --progress never -m "$PAR" \
		--state-dir "$scratch/state" --output json >"$scratch/$name.json"
	local secs rss
	secs=$(grep -o '"seconds": [0-9.]*' "$scratch/$name.json" | awk '{print $2}')
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$scratch/$name.time")
	log "$name: $(tr -d '\n ' <"$scratch/$name.json" | grep -o '"hdfs_checksum":{[^}]*}[^}]*}')"
	echo "$secs $rss"
}

row() {
	local label=$1 with=$2 without=$3
	read -r ws wr <<<"$with"
	read -r os or <<<"$without"
	printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$ws" "$wr" "$os" "$or" \
		"$(awk -v a="$ws" -v b="$os" 'BEGIN {printf "%.2fx", a / b}')"
}

echo "| case | with checksums s | RSS MB | --no-hdfs-checksum s | RSS MB | time ratio |"
echo "|---|---|---|---|---|---|"

if want a; then
	log "(a) writing $SMALL_FILES files of 4 KiB into HDFS (WebHDFS CREATE)"
	head -c 4096 /dev/urandom >"$scratch/small.bin"
	for ((i = 0; i < SMALL_FILES; i++)); do
		# CREATE answers with a redirect to the DataNode, which takes the bytes.
		loc=$(curl -sS -X PUT -o /dev/null -w '%{redirect_url}' \
			"$MIGRATE_HDFS_HTTP_URL/webhdfs/v1/$run_id/small/d$((i % 20))/f$i?op=CREATE&user.name=$USER&overwrite=true")
		[ -n "$loc" ] || die "WebHDFS CREATE gave no redirect"
		# Each file differs in its first bytes.
		{ printf '%08d' "$i"; tail -c +9 "$scratch/small.bin"; } |
			curl -sS -f -X PUT -T - -o /dev/null "$loc" || die "WebHDFS write of f$i failed"
	done
	with=$(measure small-with "$hdfs_root/small" "s3://$BUCKET/$run_id/small-with" --hdfs-http "$MIGRATE_HDFS_HTTP_URL")
	without=$(measure small-without "$hdfs_root/small" "s3://$BUCKET/$run_id/small-without" --no-hdfs-checksum)
	row "(a) $SMALL_FILES x 4 KiB" "$with" "$without"
fi

if want b; then
	log "(b) writing $BIG_FILES files of $BIG_MIB MiB (128 MiB blocks) into HDFS (WebHDFS CREATE)"
	for ((i = 0; i < BIG_FILES; i++)); do
		loc=$(curl -sS -X PUT -o /dev/null -w '%{redirect_url}' \
			"$MIGRATE_HDFS_HTTP_URL/webhdfs/v1/$run_id/big/part-$i?op=CREATE&user.name=$USER&overwrite=true&blocksize=134217728")
		[ -n "$loc" ] || die "WebHDFS CREATE gave no redirect"
		head -c $((BIG_MIB << 20)) /dev/urandom | curl -sS -f -X PUT -T - -o /dev/null "$loc" ||
			die "WebHDFS write of part-$i failed"
	done
	with=$(measure big-with "$hdfs_root/big" "s3://$BUCKET/$run_id/big-with" --hdfs-http "$MIGRATE_HDFS_HTTP_URL")
	without=$(measure big-without "$hdfs_root/big" "s3://$BUCKET/$run_id/big-without" --no-hdfs-checksum)
	row "(b) $BIG_FILES x $BIG_MIB MiB, 128 MiB blocks" "$with" "$without"
fi
