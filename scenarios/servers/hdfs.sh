#!/usr/bin/env bash
# A private HDFS (Hadoop 2.7.3: one NameNode, one DataNode) for the tests of `migrate copy`, with its
# data under the run dir and every port on 127.0.0.1.
#
#   scenarios/servers/hdfs.sh start    # installs the jars (and Java) if missing, starts; prints the URL
#   scenarios/servers/hdfs.sh env      # export MIGRATE_HDFS_URL=hdfs://127.0.0.1:PORT
#                                      # export MIGRATE_HDFS_HTTP_URL=http://127.0.0.1:PORT+1 (WebHDFS)
#   scenarios/servers/hdfs.sh stop
#   scenarios/servers/hdfs.sh fs ARGS... # Hadoop's own `hdfs dfs` (FsShell) with the installed jars, e.g.
#                                      # fs -Ddfs.checksum.type=CRC32 -put FILE hdfs://127.0.0.1:PORT/x
#                                      # fs -checksum hdfs://127.0.0.1:PORT/x
#
# The Hadoop jars come from PyPI: the pyspark 2.4.8 source distribution carries Hadoop 2.7.3 (with
# hadoop-hdfs) under deps/jars; only that directory is kept. Maven Central is not needed. Java 17 runs
# it; when `java` is missing, Debian's openjdk-17-jre-headless is installed (as root).
#
# Blocks are 16 MiB (the minimum block size is lowered) so that multi-block files stay small in tests;
# replication 1, permissions off. WebHDFS is on (NameNode HTTP port = RPC port + 1): `migrate copy`
# fetches HDFS's file checksums through it (op=GETFILECHECKSUM, redirected to the DataNode's HTTP port).
#
# Environment: MIGRATE_RUN_DIR (default <repo>/.run), MIGRATE_HDFS_PORT (NameNode RPC port, default
# 29870; the server uses this port and the 7 after it), MIGRATE_TOOLS_DIR (where the jars are kept;
# default /opt/migrate as root, else ~/.cache/migrate). See README.md beside this file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYSPARK_VERSION=2.4.8
# Below Linux's ephemeral range (32768-60999): the JVMs bind their ports seconds after the check
# that they are free, and in between any outgoing connection may take one as its local port (a CI
# run failed so: the DataNode's 39876, free when checked, was in use when it bound).
DEFAULT_PORT=29870
BLOCK_SIZE=$((16 << 20))
RUN=$(run_dir)
DIR=$RUN/hdfs
CONF=$DIR/conf
PORTFILE=$DIR/port

if is_root; then
	TOOLS=${MIGRATE_TOOLS_DIR:-/opt/migrate}
else
	TOOLS=${MIGRATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/migrate}
fi
JARS=$TOOLS/hadoop-jars-pyspark-$PYSPARK_VERSION

url() { echo "hdfs://127.0.0.1:$1"; }
http_url() { echo "http://127.0.0.1:$(($1 + 1))"; }

ensure_java() {
	command -v java >/dev/null && return 0
	apt_install openjdk-17-jre-headless
	command -v java >/dev/null || die "openjdk-17-jre-headless installed no java"
}

# Downloads the pyspark sdist (pip download, no install) and keeps only deps/jars, renamed into place
# so that an interrupted install is never mistaken for one.
ensure_jars() {
	[ -f "$JARS/.complete" ] && return 0
	local py tmp
	py=$(command -v python3 || command -v python) || die "python3 with pip is needed to fetch the Hadoop jars"
	mkdir -p "$TOOLS" || die "cannot create $TOOLS (set MIGRATE_TOOLS_DIR)"
	tmp=$(mktemp -d "$TOOLS/.hadoop-jars.XXXXXX")
	log "fetching the Hadoop 2.7.3 jars from PyPI (pyspark==$PYSPARK_VERSION sdist, ~220 MB; one-time)"
	# pip download of an sdist prepares its metadata, which needs setuptools and wheel.
	if ! { "$py" -m pip install --quiet --disable-pip-version-check --no-input setuptools wheel &&
		"$py" -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
			--no-build-isolation --no-binary :all: -d "$tmp/dl" "pyspark==$PYSPARK_VERSION"; } \
		</dev/null >"$tmp.log" 2>&1; then
		show_log "$tmp.log"
		rm -rf "$tmp" "$tmp.log"
		die "pip download pyspark==$PYSPARK_VERSION failed"
	fi
	rm -f "$tmp.log"
	tar -xzf "$tmp/dl/pyspark-$PYSPARK_VERSION.tar.gz" -C "$tmp" "pyspark-$PYSPARK_VERSION/deps/jars" ||
		die "unpacking pyspark-$PYSPARK_VERSION.tar.gz failed"
	ls "$tmp/pyspark-$PYSPARK_VERSION/deps/jars"/hadoop-hdfs-*.jar >/dev/null 2>&1 ||
		die "pyspark-$PYSPARK_VERSION has no hadoop-hdfs jar"
	rm -rf "$JARS"
	mv "$tmp/pyspark-$PYSPARK_VERSION/deps/jars" "$JARS"
	rm -rf "$tmp"
	touch "$JARS/.complete"
	log "installed $JARS"
}

# WebHDFS runs on Jersey 1 (com.sun.jersey), which the pyspark jars lack (Spark ships Jersey 2): Debian's
# libjersey1-*-java (1.19) and the JAX-RS 1.1 API, put before the pyspark jars on the class path so
# that their JAX-RS API and RuntimeDelegate win over Jersey 2's.
JERSEY1=(/usr/share/java/jersey1-core.jar /usr/share/java/jersey1-server.jar /usr/share/java/jersey1-servlet.jar /usr/share/java/jsr311-api.jar)
ensure_jersey1() {
	local j
	for j in "${JERSEY1[@]}"; do
		[ -f "$j" ] || {
			apt_install libjersey1-core-java libjersey1-server-java libjersey1-servlet-java libjsr311-api-java
			break
		}
	done
	for j in "${JERSEY1[@]}"; do
		[ -f "$j" ] || die "$j is missing after installing Debian's libjersey1 packages"
	done
}

ensure_installed() {
	ensure_java
	ensure_jars
	ensure_jersey1
}

# classpath [CONF_DIR]: the config dir (default: the daemons'), Jersey 1, the Hadoop jars.
classpath() {
	local IFS=:
	echo "${1:-$CONF}:${JERSEY1[*]}:$JARS/*"
}

ports_of() {
	local p
	for ((p = $1; p < $1 + 8; p++)); do echo "$p"; done
}

ports_free() {
	local p
	for p in $(ports_of "$1"); do
		port_in_use "$p" && return 1
	done
	return 0
}

# An explicit port is used as is (a conflict is an error); otherwise the default block of 8 ports or
# one of the next 19 blocks that is entirely free.
pick_ports() {
	local explicit=$1 p
	if [ -n "$explicit" ]; then
		ports_free "$explicit" || die "one of the ports $explicit-$((explicit + 7)) (MIGRATE_HDFS_PORT) is already in use"
		echo "$explicit"
		return
	fi
	for ((p = DEFAULT_PORT; p < DEFAULT_PORT + 200; p += 10)); do
		if ports_free "$p"; then
			[ "$p" -eq "$DEFAULT_PORT" ] || log "ports from $DEFAULT_PORT are busy; using $p"
			echo "$p"
			return
		fi
	done
	die "no free block of ports from $DEFAULT_PORT to $((DEFAULT_PORT + 199)); set MIGRATE_HDFS_PORT"
}

live_pid() {
	local pid
	[ -f "$DIR/$1.pid" ] || return 1
	pid=$(cat "$DIR/$1.pid")
	[ -n "$pid" ] && process_alive "$pid" java || return 1
	echo "$pid"
}

prop() { printf '  <property><name>%s</name><value>%s</value></property>\n' "$1" "$2"; }

# core-site.xml and hdfs-site.xml, rewritten at every start (the port may change), plus the web.xml
# stubs the daemons' embedded web servers look for on the classpath (the jars lack them).
write_config() {
	local port=$1 w
	mkdir -p "$CONF" "$DIR/name" "$DIR/data"
	{
		echo '<?xml version="1.0"?><configuration>'
		prop fs.defaultFS "$(url "$port")"
		prop hadoop.tmp.dir "$DIR/tmp"
		echo '</configuration>'
	} >"$CONF/core-site.xml"
	{
		echo '<?xml version="1.0"?><configuration>'
		prop dfs.namenode.name.dir "file://$DIR/name"
		prop dfs.datanode.data.dir "file://$DIR/data"
		prop dfs.namenode.rpc-address "127.0.0.1:$port"
		prop dfs.namenode.http-address "127.0.0.1:$((port + 1))"
		prop dfs.namenode.https-address "127.0.0.1:$((port + 2))"
		prop dfs.namenode.secondary.http-address "127.0.0.1:$((port + 3))"
		prop dfs.datanode.address "127.0.0.1:$((port + 4))"
		prop dfs.datanode.http.address "127.0.0.1:$((port + 5))"
		prop dfs.datanode.ipc.address "127.0.0.1:$((port + 6))"
		prop dfs.datanode.https.address "127.0.0.1:$((port + 7))"
		prop dfs.replication 1
		prop dfs.permissions.enabled false
		prop dfs.webhdfs.enabled true
		prop dfs.namenode.datanode.registration.ip-hostname-check false
		prop dfs.blocksize "$BLOCK_SIZE"
		prop dfs.namenode.fs-limits.min-block-size 1048576
		# Out of safe mode as soon as the blocks are reported, not 30 s later: until then writes fail.
		prop dfs.namenode.safemode.extension 0
		echo '</configuration>'
	} >"$CONF/hdfs-site.xml"
	# Logs at INFO on stderr (the daemon's log file): readiness is read from the DataNode's log.
	cat >"$CONF/log4j.properties" <<'LOG4J'
log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
LOG4J
	for w in hdfs datanode secondary; do
		mkdir -p "$CONF/webapps/$w/WEB-INF"
		echo '<web-app/>' >"$CONF/webapps/$w/WEB-INF/web.xml"
	done
}

hadoop() { java -Xmx512m -cp "$(classpath)" "$@"; }

# start_daemon NAME CLASS: the daemon outlives this script (setsid), must not hold our lock (9>&-),
# and writes only to the log.
start_daemon() {
	local name=$1 class=$2
	(
		cd "$DIR"
		exec setsid java -Xmx512m -cp "$(classpath)" "$class"
	) </dev/null >>"$DIR/$name.log" 2>&1 9>&- &
	echo "$!" >"$DIR/$name.pid"
}

# Ready when the NameNode answers, a DataNode has registered with it and the NameNode has left safe
# mode: a write would fail before.
ready() {
	grep -q "Successfully sent block report" "$DIR/datanode.log" 2>/dev/null ||
		grep -q "Got finalize command for block pool" "$DIR/datanode.log" 2>/dev/null || return 1
	grep -q "Leaving safe mode" "$DIR/namenode.log" 2>/dev/null || return 1
	port_in_use "$1"
}

cmd_start() {
	mkdir -p "$DIR"
	take_lock "$RUN/hdfs.lock"
	local port
	if live_pid namenode >/dev/null && live_pid datanode >/dev/null; then
		port=$(cat "$PORTFILE")
		wait_until 60 ready "$port" || die "HDFS runs but is not ready on port $port; see $DIR/*.log"
		log "already running"
		url "$port"
		return 0
	fi
	stop_daemons
	ensure_installed
	port=$(pick_ports "${MIGRATE_HDFS_PORT:-}")
	write_config "$port"
	echo "$port" >"$PORTFILE"
	if [ ! -f "$DIR/name/current/VERSION" ]; then
		log "formatting the NameNode in $DIR/name"
		hadoop org.apache.hadoop.hdfs.server.namenode.NameNode -format -force -nonInteractive \
			</dev/null >"$DIR/format.log" 2>&1 9>&- || {
			show_log "$DIR/format.log"
			die "NameNode -format failed"
		}
	fi
	# Readiness is read from these logs: this start's lines only.
	: >"$DIR/datanode.log"
	: >"$DIR/namenode.log"
	log "starting HDFS on 127.0.0.1:$port (data $DIR, logs $DIR/*.log)"
	start_daemon namenode org.apache.hadoop.hdfs.server.namenode.NameNode
	start_daemon datanode org.apache.hadoop.hdfs.server.datanode.DataNode
	if ! wait_until 120 ready "$port"; then
		show_log "$DIR/namenode.log"
		show_log "$DIR/datanode.log"
		stop_daemons
		die "HDFS did not become ready on port $port"
	fi
	log "ready (namenode pid $(cat "$DIR/namenode.pid"), datanode pid $(cat "$DIR/datanode.pid"))"
	url "$port"
}

stop_daemons() {
	local name pid
	for name in datanode namenode; do
		if pid=$(live_pid "$name"); then
			terminate "$name" "$pid"
		fi
		rm -f "$DIR/$name.pid"
	done
}

cmd_stop() {
	mkdir -p "$DIR"
	take_lock "$RUN/hdfs.lock"
	if ! live_pid namenode >/dev/null && ! live_pid datanode >/dev/null; then
		log "not running"
	fi
	stop_daemons
}

running_url() {
	local port
	if live_pid namenode >/dev/null && live_pid datanode >/dev/null; then
		port=$(cat "$PORTFILE")
		if ready "$port"; then
			url "$port"
			return 0
		fi
		log "the daemons exist but the NameNode does not answer on port $port"
	else
		log "not running"
	fi
	return 3
}

cmd_status() {
	mkdir -p "$DIR"
	take_lock "$RUN/hdfs.lock"
	local u
	u=$(running_url) || exit 3
	log "running"
	echo "$u"
}

cmd_env() {
	mkdir -p "$DIR"
	take_lock "$RUN/hdfs.lock"
	local u
	u=$(running_url) || {
		log "start it first: $0 start"
		exit 3
	}
	echo "export MIGRATE_HDFS_URL=$u"
	echo "export MIGRATE_HDFS_HTTP_URL=$(http_url "$(cat "$PORTFILE")")"
}

# Hadoop's FsShell (`hdfs dfs`): a client, so no lock, with its own empty config (it works whichever
# run dir the server uses: give full hdfs:// URLs) and warnings only.
cmd_fs() {
	[ -f "$JARS/.complete" ] || die "the Hadoop jars are not installed: $0 install"
	ensure_jersey1
	local conf=$DIR/client-conf tmp
	if [ ! -f "$conf/log4j.properties" ]; then
		mkdir -p "$DIR"
		# Built aside and renamed: concurrent callers never see half a config.
		tmp=$(mktemp -d "$DIR/.client-conf.XXXXXX")
		echo '<?xml version="1.0"?><configuration/>' >"$tmp/core-site.xml"
		echo '<?xml version="1.0"?><configuration/>' >"$tmp/hdfs-site.xml"
		printf '%s\n' 'log4j.rootLogger=WARN,console' 'log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR' \
			'log4j.appender.console=org.apache.log4j.ConsoleAppender' 'log4j.appender.console.target=System.err' \
			'log4j.appender.console.layout=org.apache.log4j.PatternLayout' \
			'log4j.appender.console.layout.ConversionPattern=%p %c{2}: %m%n' >"$tmp/log4j.properties"
		mv -T "$tmp" "$conf" 2>/dev/null || rm -rf "$tmp"
	fi
	java -Xmx256m -cp "$(classpath "$conf")" org.apache.hadoop.fs.FsShell "$@"
}

case "${1:-}" in
fs)
	shift
	cmd_fs "$@"
	;;
install)
	mkdir -p "$DIR"
	take_lock "$RUN/hdfs.lock"
	ensure_installed
	;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
*) usage ;;
esac
