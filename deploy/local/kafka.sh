#!/usr/bin/env bash
# Installs, starts and stops a local Apache Kafka as one KRaft node that is
# both broker and controller, listening on 127.0.0.1 only. The jars come from
# Maven Central through Maven, so no Kafka release archive is needed.
#
# Usage: kafka.sh install|start|stop|status|classpath
set -euo pipefail

# shellcheck source=env.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

KAFKA_CACHE_DIR="$(dirname "$KAFKA_LIBS_DIR")"
# Versions that the jars in $KAFKA_LIBS_DIR belong to. The file is written
# last, so a download that failed halfway is not taken for a finished one.
LIBS_STAMP="$KAFKA_LIBS_DIR/.versions"
LOG4J_CONFIG="$KAFKA_DIR/log4j2.xml"
STDOUT_LOG="$KAFKA_DIR/logs/kafka.out"
# The controller port that the metadata log was formatted with.
FORMAT_STAMP="$KAFKA_DIR/formatted-controller-endpoint"

usage() {
	cat >&2 <<EOF
Usage: $(basename "$0") COMMAND

Commands:
  install    download the Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS_DIR if missing
  start      format the storage on first use, start the node, wait for "Kafka Server started"
  stop       stop the node (data is kept)
  status     print whether the node runs (exit status 0 when it runs, 3 when not)
  classpath  print the Java classpath of the Kafka jars, for tools such as
             org.apache.kafka.tools.TopicCommand and org.apache.kafka.tools.ProducerPerformance
EOF
}

is_running() {
	sluice_pid_alive "$KAFKA_PID_FILE" "$KAFKA_CONFIG"
}

libs_stamp() {
	printf 'kafka=%s log4j=%s\n' "$KAFKA_VERSION" "$KAFKA_LOG4J_VERSION"
}

is_installed() {
	[[ -f "$LIBS_STAMP" && "$(<"$LIBS_STAMP")" == "$(libs_stamp)" ]]
}

# Kafka 4.x needs Java 17 or newer for the broker and the tools.
require_java() {
	command -v java >/dev/null || sluice_apt_install openjdk-17-jre-headless
	local version
	version="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
	if [[ ! "$version" =~ ^[0-9]+$ ]] || ((version < 17)); then
		sluice_die "Kafka $KAFKA_VERSION needs Java 17 or newer, but java on PATH is version '${version:-unknown}'"
	fi
}

write_pom() {
	mkdir -p "$KAFKA_CACHE_DIR"
	cat >"$KAFKA_CACHE_DIR/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by deploy/local/kafka.sh to download the Kafka jars; not a build. -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.sluice</groupId>
  <artifactId>kafka-local-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- The broker, including the KRaft controller and kafka.tools.StorageTool. -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- TopicCommand, ProducerPerformance, ConsumerPerformance; pulls in connect-runtime. -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- Kafka logs through the SLF4J 1.7 API; without a binding it logs nothing. -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$KAFKA_LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$KAFKA_LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
}

cmd_install() {
	if is_installed; then
		return 0
	fi
	require_java
	command -v mvn >/dev/null || sluice_apt_install maven

	sluice_log "Downloading Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS_DIR ..."
	write_pom
	local staging="$KAFKA_LIBS_DIR.partial" maven_log="$KAFKA_CACHE_DIR/maven.log"
	rm -rf "$staging"
	# Maven 3.8 prints stray color codes even with -q, so its output goes to a
	# file and is shown only on failure.
	if ! sluice_maven -B -q -f "$KAFKA_CACHE_DIR/pom.xml" \
		org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$staging" >"$maven_log" 2>&1; then
		sed $'s/\e\\[[0-9;]*m//g' "$maven_log" | tail -n 30 >&2
		sluice_die "Maven could not download the Kafka $KAFKA_VERSION jars; full output in $maven_log"
	fi
	rm -rf "$KAFKA_LIBS_DIR"
	mv "$staging" "$KAFKA_LIBS_DIR"
	libs_stamp >"$LIBS_STAMP"
	sluice_log "Kafka jars installed ($(find "$KAFKA_LIBS_DIR" -name '*.jar' | wc -l) jars)."
}

write_config() {
	mkdir -p "$KAFKA_DIR/logs" "$KAFKA_DATA_DIR"
	cat >"$KAFKA_CONFIG" <<EOF
# Written by deploy/local/kafka.sh on every start; edit env.sh or the script instead.
# One KRaft node that is broker and controller at once.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA_DIR

# Internal topics default to 3 replicas, which one node cannot host.
# Transactions fail on a single node unless the transaction.state.log pair is 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests create their topics explicitly, and consumer groups join without delay.
auto.create.topics.enable=false
num.partitions=1
group.initial.rebalance.delay.ms=0
EOF

	cat >"$LOG4J_CONFIG" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by deploy/local/kafka.sh: the broker logs at INFO to $KAFKA_LOG. -->
<Configuration status="warn">
  <Appenders>
    <RollingFile name="file" fileName="$KAFKA_LOG" filePattern="$KAFKA_LOG.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <SizeBasedTriggeringPolicy size="100 MB"/>
      <DefaultRolloverStrategy max="5"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="info">
      <AppenderRef ref="file"/>
    </Root>
  </Loggers>
</Configuration>
EOF
}

# Formats the metadata log once. --standalone makes this node the only voter of
# the dynamic controller quorum named by controller.quorum.bootstrap.servers.
format_storage() {
	local endpoint="$KAFKA_HOST:$KAFKA_CONTROLLER_PORT"
	if [[ -f "$KAFKA_DATA_DIR/meta.properties" ]]; then
		if [[ -f "$FORMAT_STAMP" && "$(<"$FORMAT_STAMP")" != "$endpoint" ]]; then
			sluice_die "the Kafka storage in $KAFKA_DATA_DIR was formatted for controller $(<"$FORMAT_STAMP"), not $endpoint; run down.sh --wipe or restore KAFKA_CONTROLLER_PORT"
		fi
		return 0
	fi

	sluice_log "Formatting Kafka storage in $KAFKA_DATA_DIR ..."
	local cluster_id format_log="$KAFKA_DIR/logs/format.log"
	cluster_id="$(java -cp "$KAFKA_LIBS_DIR/*" kafka.tools.StorageTool random-uuid 2>"$format_log")" ||
		sluice_die "kafka.tools.StorageTool random-uuid failed; see $format_log"
	if ! java -cp "$KAFKA_LIBS_DIR/*" kafka.tools.StorageTool format --standalone \
		-t "$cluster_id" -c "$KAFKA_CONFIG" >>"$format_log" 2>&1; then
		tail -n 20 "$format_log" >&2
		sluice_die "formatting the Kafka storage failed; see $format_log"
	fi
	printf '%s\n' "$endpoint" >"$FORMAT_STAMP"
}

cmd_start() {
	is_installed || sluice_die "the Kafka $KAFKA_VERSION jars are missing; run: $0 install"

	if is_running; then
		sluice_log "Kafka already running (pid $(<"$KAFKA_PID_FILE")) on $KAFKA_BOOTSTRAP_SERVERS."
		return 0
	fi
	local port
	for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
		if sluice_port_open "$KAFKA_HOST" "$port"; then
			sluice_die "port $KAFKA_HOST:$port is in use by another process; stop that process or set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
		fi
	done

	write_config
	format_storage

	# Only log lines written after this offset count as this start's.
	local log_offset=0
	[[ -f "$KAFKA_LOG" ]] && log_offset="$(stat -c %s "$KAFKA_LOG")"

	sluice_log "Starting Kafka $KAFKA_VERSION on $KAFKA_BOOTSTRAP_SERVERS ..."
	# KAFKA_HEAP_OPTS contains several JVM options, so it is split on purpose.
	# setsid detaches the JVM from this shell's session, so a Ctrl-C in the
	# terminal that ran the script does not reach it.
	# shellcheck disable=SC2086
	setsid java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$LOG4J_CONFIG" \
		-cp "$KAFKA_LIBS_DIR/*" kafka.Kafka "$KAFKA_CONFIG" >>"$STDOUT_LOG" 2>&1 </dev/null &
	local server_pid=$!
	printf '%s\n' "$server_pid" >"$KAFKA_PID_FILE"

	local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
	# grep reads to the end rather than stopping at the match (-q): tail
	# would die of SIGPIPE on a long log, and pipefail would fail the test.
	until [[ -f "$KAFKA_LOG" ]] && tail -c "+$((log_offset + 1))" "$KAFKA_LOG" | grep 'Kafka Server started' >/dev/null; do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			tail -n 30 "$KAFKA_LOG" "$STDOUT_LOG" >&2 2>/dev/null || true
			sluice_die "Kafka exited during startup; see $KAFKA_LOG and $STDOUT_LOG"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 30 "$KAFKA_LOG" "$STDOUT_LOG" >&2 2>/dev/null || true
			# A half-started node would pass the "already running" check of the next start.
			kill -TERM "$server_pid" 2>/dev/null || true
			sluice_die "Kafka did not log 'Kafka Server started' within ${KAFKA_START_TIMEOUT}s, so it was stopped; see $KAFKA_LOG, or raise KAFKA_START_TIMEOUT on a slow machine"
		fi
		sleep 0.3
	done
	sluice_log "Kafka running (pid $server_pid) on $KAFKA_BOOTSTRAP_SERVERS."
}

cmd_stop() {
	if ! is_running; then
		sluice_log "Kafka is not running."
		rm -f "$KAFKA_PID_FILE"
		return 0
	fi
	# SIGTERM runs Kafka's shutdown hook, which closes the logs cleanly. A
	# kill after the timeout loses no acknowledged record: written records
	# are in the OS page cache, and the next start recovers the logs.
	sluice_stop_pid Kafka "$(<"$KAFKA_PID_FILE")" TERM 60 kill
	rm -f "$KAFKA_PID_FILE"
	sluice_log "Kafka stopped."
}

cmd_status() {
	if is_running; then
		echo "Kafka $KAFKA_VERSION running (pid $(<"$KAFKA_PID_FILE")) on $KAFKA_BOOTSTRAP_SERVERS, data in $KAFKA_DATA_DIR"
	else
		echo "Kafka stopped"
		return 3
	fi
}

cmd_classpath() {
	is_installed || sluice_die "the Kafka $KAFKA_VERSION jars are missing; run: $0 install"
	printf '%s\n' "$KAFKA_LIBS_DIR/*"
}

sluice_main "$@"
