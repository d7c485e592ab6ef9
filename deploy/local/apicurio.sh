#!/usr/bin/env bash
# Installs, starts and stops a local Apicurio Registry, a schema registry whose
# Confluent-compatible API ($APICURIO_CCOMPAT_URL) sluice's registry client
# talks to. Maven downloads the io.apicurio:apicurio-registry-app archive from
# Maven Central into $APICURIO_INSTALL_DIR. The registry keeps its schemas in
# an in-memory H2 database, so every start begins empty. The log and the pid
# file are in $APICURIO_DIR.
#
# Usage: apicurio.sh install|start|stop|status
set -euo pipefail

# shellcheck source=env.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

ARTIFACT="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all"
ARCHIVE_NAME="apicurio-registry-app-$APICURIO_VERSION-all.tar.gz"
# Version of the unpacked archive in $APICURIO_INSTALL_DIR. The file is written
# last, so an install that failed halfway is not taken for a finished one.
INSTALL_STAMP="$APICURIO_INSTALL_DIR/.version"
# Temporary files of Quarkus and Vert.x. The path is unique to this state
# folder, so its -Djava.io.tmpdir option also distinguishes this registry's JVM
# from any other java process.
TMP_DIR="$APICURIO_DIR/tmp"

usage() {
	cat >&2 <<EOF
Usage: $(basename "$0") COMMAND

Commands:
  install  download Apicurio Registry $APICURIO_VERSION with Maven into $APICURIO_INSTALL_DIR if missing
  start    start the registry on $APICURIO_HOST:$APICURIO_PORT and wait until $APICURIO_CCOMPAT_URL responds
  stop     stop the registry (its schemas are kept in memory only, so they are lost)
  status   print whether the registry runs (exit status 0 when it runs, 3 when not)
EOF
}

is_running() {
	sluice_pid_alive "$APICURIO_PID_FILE" "-Djava.io.tmpdir=$TMP_DIR"
}

is_installed() {
	[[ -f "$APICURIO_INSTALL_DIR/quarkus-run.jar" && -f "$INSTALL_STAMP" && "$(<"$INSTALL_STAMP")" == "$APICURIO_VERSION" ]]
}

# Prints the Java feature version (17, 21, ...) of the java binary $1.
java_version() {
	"$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p'
}

# Prints the path of a java binary that can run Apicurio Registry: the classes
# of 3.3 are compiled for Java 21 (class file version 65). APICURIO_JAVA wins
# when set. Otherwise java on PATH is taken when it is new enough, and then the
# first JDK in /usr/lib/jvm that is, because Debian 12 packages only Java 17.
find_java() {
	local candidate version
	if [[ -n "$APICURIO_JAVA" ]]; then
		version="$(java_version "$APICURIO_JAVA")"
		if [[ ! "$version" =~ ^[0-9]+$ ]] || ((version < 21)); then
			sluice_die "APICURIO_JAVA=$APICURIO_JAVA is Java '${version:-unknown}', but Apicurio Registry $APICURIO_VERSION needs Java 21 or newer"
		fi
		printf '%s\n' "$APICURIO_JAVA"
		return 0
	fi
	for candidate in "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
		[[ -x "$candidate" ]] || continue
		version="$(java_version "$candidate")"
		if [[ "$version" =~ ^[0-9]+$ ]] && ((version >= 21)); then
			printf '%s\n' "$candidate"
			return 0
		fi
	done
	sluice_die "Apicurio Registry $APICURIO_VERSION needs Java 21 or newer, and neither java on PATH nor /usr/lib/jvm has one; install a JDK 21 or newer (Debian 12 packages only 17) and set APICURIO_JAVA to its bin/java"
}

cmd_install() {
	if is_installed; then
		return 0
	fi
	find_java >/dev/null
	command -v mvn >/dev/null || sluice_apt_install maven
	# start polls the registry's HTTP API with curl.
	command -v curl >/dev/null || sluice_apt_install curl

	sluice_log "Downloading Apicurio Registry $APICURIO_VERSION ($ARTIFACT) with Maven into $APICURIO_INSTALL_DIR ..."
	local staging="$APICURIO_INSTALL_DIR.partial" download="$APICURIO_INSTALL_DIR.download"
	local maven_log="$SLUICE_CACHE_DIR/apicurio-maven.log"
	rm -rf "$staging" "$download"
	mkdir -p "$staging" "$download"
	# The copy goal needs no project. Maven runs in the empty download folder,
	# so no pom.xml of a surrounding project takes part. Maven 3.8 prints stray
	# color codes even with -q, so its output goes to a file and is shown only
	# on failure.
	if ! (cd "$download" && sluice_maven -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
		-Dartifact="$ARTIFACT" -DoutputDirectory="$download" >"$maven_log" 2>&1); then
		sed $'s/\e\\[[0-9;]*m//g' "$maven_log" | tail -n 30 >&2
		sluice_die "Maven could not download $ARTIFACT; full output in $maven_log"
	fi
	if ! tar -xzf "$download/$ARCHIVE_NAME" -C "$staging"; then
		sluice_die "unpacking $download/$ARCHIVE_NAME failed"
	fi
	[[ -f "$staging/quarkus-run.jar" ]] || sluice_die "$ARCHIVE_NAME contains no quarkus-run.jar at its top level"
	rm -rf "$APICURIO_INSTALL_DIR"
	mv "$staging" "$APICURIO_INSTALL_DIR"
	# Maven keeps its own copy of the archive in ~/.m2.
	rm -rf "$download"
	printf '%s\n' "$APICURIO_VERSION" >"$INSTALL_STAMP"
	sluice_log "Apicurio Registry $APICURIO_VERSION installed."
}

# Reports whether a GET of the subject list of the Confluent-compatible API
# returns a 2xx status. --noproxy keeps a proxy from the environment out of the way.
api_ready() {
	curl --noproxy '*' --silent --fail --output /dev/null --max-time 5 "$APICURIO_CCOMPAT_URL/subjects"
}

cmd_start() {
	is_installed || sluice_die "Apicurio Registry $APICURIO_VERSION is not installed; run: $0 install"

	if is_running; then
		sluice_log "Apicurio Registry already running (pid $(<"$APICURIO_PID_FILE")) on $APICURIO_CCOMPAT_URL."
		return 0
	fi
	local port
	for port in "$APICURIO_PORT" "$APICURIO_MANAGEMENT_PORT"; do
		if sluice_port_open "$APICURIO_HOST" "$port"; then
			sluice_die "port $APICURIO_HOST:$port is in use by another process; stop that process or set APICURIO_PORT / APICURIO_MANAGEMENT_PORT"
		fi
	done
	local java
	java="$(find_java)"
	mkdir -p "$APICURIO_DIR" "$TMP_DIR"

	sluice_log "Starting Apicurio Registry $APICURIO_VERSION on $APICURIO_HOST:$APICURIO_PORT with $java ..."
	local started=$SECONDS
	# Quarkus listens on all interfaces by default, on the API port and on the
	# management port (health checks and metrics) alike, so both get the host.
	# The JVM runs in $APICURIO_DIR, because Quarkus may write files into its
	# working directory. APICURIO_HEAP_OPTS contains several JVM options, so it
	# is split on purpose. setsid detaches the JVM from this shell's session,
	# so a Ctrl-C in the terminal that ran the script does not reach it. $! is
	# the JVM itself, because the subshell and setsid exec in place (setsid
	# forks only in a process group leader, which a background job of a script
	# is not).
	# shellcheck disable=SC2086
	(cd "$APICURIO_DIR" && exec setsid "$java" $APICURIO_HEAP_OPTS -Djava.io.tmpdir="$TMP_DIR" \
		-Dquarkus.http.host="$APICURIO_HOST" -Dquarkus.http.port="$APICURIO_PORT" \
		-Dquarkus.management.host="$APICURIO_HOST" -Dquarkus.management.port="$APICURIO_MANAGEMENT_PORT" \
		-jar "$APICURIO_INSTALL_DIR/quarkus-run.jar" >>"$APICURIO_LOG" 2>&1 </dev/null) &
	local server_pid=$!
	printf '%s\n' "$server_pid" >"$APICURIO_PID_FILE"

	local deadline=$((SECONDS + APICURIO_START_TIMEOUT))
	until api_ready; do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			tail -n 30 "$APICURIO_LOG" >&2 2>/dev/null || true
			sluice_die "Apicurio Registry exited during startup; see $APICURIO_LOG"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 30 "$APICURIO_LOG" >&2 2>/dev/null || true
			# A half-started registry would pass the "already running" check of the next start.
			kill -TERM "$server_pid" 2>/dev/null || true
			sluice_die "Apicurio Registry did not respond on $APICURIO_CCOMPAT_URL within ${APICURIO_START_TIMEOUT}s, so it was stopped; see $APICURIO_LOG, or raise APICURIO_START_TIMEOUT on a slow machine"
		fi
		sleep 0.5
	done
	sluice_log "Apicurio Registry running (pid $server_pid) on $APICURIO_CCOMPAT_URL after $((SECONDS - started))s."
}

cmd_stop() {
	if ! is_running; then
		sluice_log "Apicurio Registry is not running."
		rm -f "$APICURIO_PID_FILE"
		return 0
	fi
	sluice_stop_pid "Apicurio Registry" "$(<"$APICURIO_PID_FILE")" TERM 30 kill
	rm -f "$APICURIO_PID_FILE"
	sluice_log "Apicurio Registry stopped."
}

cmd_status() {
	if is_running; then
		echo "Apicurio Registry $APICURIO_VERSION running (pid $(<"$APICURIO_PID_FILE")) on $APICURIO_CCOMPAT_URL, schemas in memory"
	else
		echo "Apicurio Registry stopped"
		return 3
	fi
}

sluice_main "$@"
