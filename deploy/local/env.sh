# shellcheck shell=bash
# Defaults shared by the deploy/local scripts, the Makefile and the tests.
#
# Source it (". deploy/local/env.sh") to get the variables in your shell. Every
# variable keeps a value that is already set in the environment, so a run can
# move ports or directories without editing this file. Running it as a script
# ("bash deploy/local/env.sh") prints the resolved values as NAME=value lines.
#
# This file sets no shell options, because a sourcing shell would keep them.
# The variables also load in a POSIX sh such as make's /bin/sh, but the helper
# functions below need bash.

if [ -n "${BASH_VERSION:-}" ]; then
	SLUICE_REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
else
	# A POSIX sh cannot find the path of a sourced file, so the current
	# directory is taken as the repository root, as it is in make recipes.
	SLUICE_REPO_DIR="${SLUICE_REPO_DIR:-$PWD}"
fi

# All server state (data, config, logs, pid files). "down.sh --wipe" deletes it.
: "${SLUICE_LOCAL_DIR:=$SLUICE_REPO_DIR/.local}"
# Downloaded artifacts that survive a wipe (the Kafka jars, the Azurite package
# and Apicurio Registry; Maven's own cache is ~/.m2).
: "${SLUICE_CACHE_DIR:=$SLUICE_REPO_DIR/.cache}"

# Relative overrides would break once a script changes directory.
case "$SLUICE_LOCAL_DIR" in /*) ;; *) SLUICE_LOCAL_DIR="$PWD/$SLUICE_LOCAL_DIR" ;; esac
case "$SLUICE_CACHE_DIR" in /*) ;; *) SLUICE_CACHE_DIR="$PWD/$SLUICE_CACHE_DIR" ;; esac

# MariaDB. Port 3307, because a packaged MariaDB or MySQL service may hold 3306.
: "${MARIADB_HOST:=127.0.0.1}"
: "${MARIADB_PORT:=3307}"
: "${MARIADB_USER:=sluice}"
: "${MARIADB_PASSWORD:=sluice}"
: "${MARIADB_DIR:=$SLUICE_LOCAL_DIR/mariadb}"
: "${MARIADB_DATA_DIR:=$MARIADB_DIR/data}"
: "${MARIADB_CONFIG:=$MARIADB_DIR/my.cnf}"
: "${MARIADB_LOG:=$MARIADB_DIR/mariadb.log}"
: "${MARIADB_PID_FILE:=$MARIADB_DIR/mariadb.pid}"
: "${MARIADB_SOCKET:=$MARIADB_DIR/mariadb.sock}"
# Seconds to wait for the server to accept connections after a start.
: "${MARIADB_START_TIMEOUT:=60}"

# PostgreSQL, for the postgres position tracker. Port 5433, because a packaged
# PostgreSQL service may hold 5432.
: "${POSTGRES_HOST:=127.0.0.1}"
: "${POSTGRES_PORT:=5433}"
: "${POSTGRES_USER:=sluice}"
: "${POSTGRES_PASSWORD:=sluice}"
: "${POSTGRES_DB:=sluice}"
: "${POSTGRES_DIR:=$SLUICE_LOCAL_DIR/postgres}"
: "${POSTGRES_DATA_DIR:=$POSTGRES_DIR/data}"
: "${POSTGRES_LOG:=$POSTGRES_DIR/postgres.log}"
: "${POSTGRES_PID_FILE:=$POSTGRES_DIR/postgres.pid}"
# PostgreSQL refuses to run as root, so a script run as root starts the server
# as this system user, which Debian's postgresql package creates.
: "${POSTGRES_OS_USER:=postgres}"
# Seconds to wait for the server to accept connections after a start.
: "${POSTGRES_START_TIMEOUT:=60}"

# Kafka, one KRaft node that is both broker and controller.
: "${KAFKA_VERSION:=4.3.2}"
: "${KAFKA_HOST:=127.0.0.1}"
: "${KAFKA_PORT:=9092}"
: "${KAFKA_CONTROLLER_PORT:=9093}"
: "${KAFKA_BOOTSTRAP_SERVERS:=$KAFKA_HOST:$KAFKA_PORT}"
: "${KAFKA_DIR:=$SLUICE_LOCAL_DIR/kafka}"
: "${KAFKA_DATA_DIR:=$KAFKA_DIR/data}"
: "${KAFKA_CONFIG:=$KAFKA_DIR/server.properties}"
: "${KAFKA_LOG:=$KAFKA_DIR/logs/server.log}"
: "${KAFKA_PID_FILE:=$KAFKA_DIR/kafka.pid}"
# Folder with every runtime jar of the broker and the Kafka tools.
: "${KAFKA_LIBS_DIR:=$SLUICE_CACHE_DIR/kafka-$KAFKA_VERSION/libs}"
# Version of log4j-core and of the SLF4J 1.x binding log4j-slf4j-impl.
: "${KAFKA_LOG4J_VERSION:=2.25.5}"
: "${KAFKA_HEAP_OPTS:=-Xms512m -Xmx1g}"
# Seconds to wait for "Kafka Server started" in the broker log after a start.
: "${KAFKA_START_TIMEOUT:=120}"

# Azurite, the Azure Blob Storage emulator, for the azblob position tracker.
# Azurite 3.36 and later require Node.js 21 or newer (the engines field of
# their package.json); 3.35 requires Node.js 10 or newer.
: "${AZURITE_VERSION:=3.35.0}"
: "${AZURITE_HOST:=127.0.0.1}"
: "${AZURITE_BLOB_PORT:=10000}"
: "${AZURITE_DIR:=$SLUICE_LOCAL_DIR/azurite}"
: "${AZURITE_DATA_DIR:=$AZURITE_DIR/data}"
: "${AZURITE_LOG:=$AZURITE_DIR/azurite.log}"
: "${AZURITE_PID_FILE:=$AZURITE_DIR/azurite.pid}"
# npm installs the azurite package here, in node_modules/.
: "${AZURITE_INSTALL_DIR:=$SLUICE_CACHE_DIR/azurite}"
# Seconds to wait for the blob port to accept connections after a start.
: "${AZURITE_START_TIMEOUT:=30}"
# Azurite's built-in development account and its key, which Microsoft
# publishes for the emulator; they are no secret and work nowhere else.
# These four are always set here, because an override would not reach Azurite.
AZURITE_ACCOUNT=devstoreaccount1
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
# Azurite serves each account under a path of its own.
AZURITE_BLOB_ENDPOINT="http://$AZURITE_HOST:$AZURITE_BLOB_PORT/$AZURITE_ACCOUNT"
AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;BlobEndpoint=$AZURITE_BLOB_ENDPOINT;"

# Apicurio Registry, a schema registry with a Confluent-compatible API. It
# keeps its schemas in an in-memory H2 database, so a stop loses them.
: "${APICURIO_VERSION:=3.3.3}"
: "${APICURIO_HOST:=127.0.0.1}"
: "${APICURIO_PORT:=8081}"
# Quarkus serves health checks and metrics on a second port. Its default, 9000,
# is taken by many other development tools.
: "${APICURIO_MANAGEMENT_PORT:=9081}"
: "${APICURIO_DIR:=$SLUICE_LOCAL_DIR/apicurio}"
: "${APICURIO_LOG:=$APICURIO_DIR/apicurio.log}"
: "${APICURIO_PID_FILE:=$APICURIO_DIR/apicurio.pid}"
# The unpacked io.apicurio:apicurio-registry-app tar.gz, with quarkus-run.jar.
: "${APICURIO_INSTALL_DIR:=$SLUICE_CACHE_DIR/apicurio-registry-$APICURIO_VERSION}"
# After a start and the registry integration tests, the heap held about 40 MB
# (G1 on Java 25), so 256 MB leaves ample room for a local test registry.
: "${APICURIO_HEAP_OPTS:=-Xmx256m}"
# java binary of Java 21 or newer; empty takes java on PATH when it is new
# enough, or else the first such JDK in /usr/lib/jvm.
: "${APICURIO_JAVA:=}"
# Seconds to wait for the Confluent-compatible API to respond after a start.
: "${APICURIO_START_TIMEOUT:=180}"
# The base URL of the Confluent-compatible API, which sluice's registry
# client takes; it is always derived here from the host and port.
APICURIO_CCOMPAT_URL="http://$APICURIO_HOST:$APICURIO_PORT/apis/ccompat/v7"

export SLUICE_REPO_DIR SLUICE_LOCAL_DIR SLUICE_CACHE_DIR
export MARIADB_HOST MARIADB_PORT MARIADB_USER MARIADB_PASSWORD MARIADB_DIR MARIADB_DATA_DIR
export MARIADB_CONFIG MARIADB_LOG MARIADB_PID_FILE MARIADB_SOCKET MARIADB_START_TIMEOUT
export POSTGRES_HOST POSTGRES_PORT POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB POSTGRES_DIR
export POSTGRES_DATA_DIR POSTGRES_LOG POSTGRES_PID_FILE POSTGRES_OS_USER POSTGRES_START_TIMEOUT
export KAFKA_VERSION KAFKA_HOST KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_BOOTSTRAP_SERVERS
export KAFKA_DIR KAFKA_DATA_DIR KAFKA_CONFIG KAFKA_LOG KAFKA_PID_FILE KAFKA_LIBS_DIR
export KAFKA_LOG4J_VERSION KAFKA_HEAP_OPTS KAFKA_START_TIMEOUT
export AZURITE_VERSION AZURITE_HOST AZURITE_BLOB_PORT AZURITE_DIR AZURITE_DATA_DIR AZURITE_LOG
export AZURITE_PID_FILE AZURITE_INSTALL_DIR AZURITE_START_TIMEOUT AZURITE_ACCOUNT AZURITE_KEY
export AZURITE_BLOB_ENDPOINT AZURITE_CONNECTION_STRING
export APICURIO_VERSION APICURIO_HOST APICURIO_PORT APICURIO_MANAGEMENT_PORT APICURIO_DIR APICURIO_LOG
export APICURIO_PID_FILE APICURIO_INSTALL_DIR APICURIO_HEAP_OPTS APICURIO_JAVA APICURIO_START_TIMEOUT
export APICURIO_CCOMPAT_URL

# Helpers for the deploy/local scripts. They print to stderr so that stdout
# stays clean for commands such as "kafka.sh classpath".

sluice_log() {
	printf '%s\n' "$*" >&2
}

sluice_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# Reports whether something accepts TCP connections on host $1, port $2.
sluice_port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Reports whether the pid in file $1 is a live process whose command line
# contains $2, so that a stale pid file or a reused pid does not count.
sluice_pid_alive() {
	local pid_file="$1" marker="$2" pid
	[[ -s "$pid_file" ]] || return 1
	pid="$(<"$pid_file")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	[[ -r "/proc/$pid/cmdline" ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker"
}

# Sends signal $3 to process $2 of server $1 and waits up to $4 seconds for
# it to exit. Then it kills the process when $5 is "kill", or fails.
sluice_stop_pid() {
	local name="$1" pid="$2" signal="$3" timeout="$4" on_timeout="$5"
	sluice_log "Stopping $name (pid $pid) ..."
	kill "-$signal" "$pid" 2>/dev/null || true
	local deadline=$((SECONDS + timeout))
	while [[ -d "/proc/$pid" ]]; do
		if ((SECONDS >= deadline)); then
			if [[ "$on_timeout" != kill ]]; then
				sluice_die "$name (pid $pid) did not stop within ${timeout}s"
			fi
			sluice_log "$name (pid $pid) did not stop within ${timeout}s; killing it."
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
}

# Runs mvn with the given arguments, one run at a time: up.sh installs
# Kafka and Apicurio at the same time, and Maven does not lock its local
# repository (~/.m2) against another Maven process.
sluice_maven() {
	local lock_fd status=0
	mkdir -p "$SLUICE_CACHE_DIR"
	exec {lock_fd}>"$SLUICE_CACHE_DIR/maven.lock"
	flock "$lock_fd"
	mvn "$@" || status=$?
	exec {lock_fd}>&-
	return "$status"
}

# Runs the command of a server script: cmd_<name> for the first argument,
# with the other arguments passed on, or the script's usage function.
# An unknown command prints the usage and exits with status 2.
sluice_main() {
	local command="${1:-}"
	[[ $# -gt 0 ]] && shift
	case "$command" in
	-h | --help | help)
		usage
		return 0
		;;
	esac
	if [[ "$command" =~ ^[a-z]+$ ]] && declare -F "cmd_$command" >/dev/null; then
		"cmd_$command" "$@"
		return
	fi
	usage
	exit 2
}

# Installs Debian packages without recommends. apt-get update runs first
# unless this helper ran it in the last hour, because a fresh machine may have
# no package lists and old lists may name versions the mirror no longer has.
# up.sh installs Kafka and MariaDB at the same time, so calls take turns
# through a lock file, and apt-get waits for a dpkg lock held by anyone else.
sluice_apt_install() {
	if [[ "$(id -u)" != 0 ]]; then
		sluice_die "installing $* needs root; run: sudo apt-get install -y --no-install-recommends $*"
	fi
	local output lock_fd stamp="${TMPDIR:-/tmp}/sluice-apt-update.stamp"
	exec {lock_fd}>"${TMPDIR:-/tmp}/sluice-apt.lock"
	flock "$lock_fd"
	output="$(mktemp)"
	if [[ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]]; then
		sluice_log "Running apt-get update ..."
		if ! apt-get -o DPkg::Lock::Timeout=300 update >"$output" 2>&1; then
			tail -n 20 "$output" >&2
			sluice_die "apt-get update failed; full output in $output"
		fi
		touch "$stamp"
	fi
	sluice_log "Installing Debian packages: $* ..."
	if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$@" >"$output" 2>&1; then
		tail -n 20 "$output" >&2
		sluice_die "apt-get install $* failed; full output in $output"
	fi
	rm -f "$output"
	exec {lock_fd}>&-
}

# Executed rather than sourced: print the resolved values.
if [ -n "${BASH_VERSION:-}" ] && [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	for name in SLUICE_REPO_DIR SLUICE_LOCAL_DIR SLUICE_CACHE_DIR \
		MARIADB_HOST MARIADB_PORT MARIADB_USER MARIADB_PASSWORD MARIADB_DIR MARIADB_DATA_DIR \
		MARIADB_CONFIG MARIADB_LOG MARIADB_PID_FILE MARIADB_SOCKET MARIADB_START_TIMEOUT \
		POSTGRES_HOST POSTGRES_PORT POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB POSTGRES_DIR \
		POSTGRES_DATA_DIR POSTGRES_LOG POSTGRES_PID_FILE POSTGRES_OS_USER POSTGRES_START_TIMEOUT \
		KAFKA_VERSION KAFKA_HOST KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_BOOTSTRAP_SERVERS \
		KAFKA_DIR KAFKA_DATA_DIR KAFKA_CONFIG KAFKA_LOG KAFKA_PID_FILE KAFKA_LIBS_DIR \
		KAFKA_LOG4J_VERSION KAFKA_HEAP_OPTS KAFKA_START_TIMEOUT \
		AZURITE_VERSION AZURITE_HOST AZURITE_BLOB_PORT AZURITE_DIR AZURITE_DATA_DIR AZURITE_LOG \
		AZURITE_PID_FILE AZURITE_INSTALL_DIR AZURITE_START_TIMEOUT AZURITE_ACCOUNT AZURITE_KEY \
		AZURITE_BLOB_ENDPOINT AZURITE_CONNECTION_STRING \
		APICURIO_VERSION APICURIO_HOST APICURIO_PORT APICURIO_MANAGEMENT_PORT APICURIO_DIR APICURIO_LOG \
		APICURIO_PID_FILE APICURIO_INSTALL_DIR APICURIO_HEAP_OPTS APICURIO_JAVA APICURIO_START_TIMEOUT \
		APICURIO_CCOMPAT_URL; do
		printf '%s=%s\n' "$name" "${!name}"
	done
fi
