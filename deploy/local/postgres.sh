#!/usr/bin/env bash
# Installs, starts and stops a local PostgreSQL server for the postgres
# position tracker, bound to 127.0.0.1 only, with its data and log under
# $SLUICE_LOCAL_DIR. The server has a login $POSTGRES_USER with password
# $POSTGRES_PASSWORD that owns the database $POSTGRES_DB.
#
# PostgreSQL refuses to run as root. Run as root, this script starts the
# server as $POSTGRES_OS_USER; run as another user, it starts the server as
# that user.
#
# Usage: postgres.sh install|start|stop|status|client [psql args...]
set -euo pipefail

# shellcheck source=env.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# Written once the login and the database exist, so later starts skip that work.
PROVISIONED_MARKER="$POSTGRES_DIR/provisioned"

usage() {
	cat >&2 <<EOF
Usage: $(basename "$0") COMMAND

Commands:
  install           install the Debian postgresql package if missing
  start             create the data directory on first use, start the server, wait until it accepts connections
  stop              shut the server down (fast shutdown; data is kept)
  status            print whether the server runs (exit status 0 when it runs, 3 when not)
  client [ARGS...]  run psql as $POSTGRES_USER on database $POSTGRES_DB over TCP, passing ARGS (stdin is forwarded)
EOF
}

# Prints the directory of the server programs. Debian installs them in
# /usr/lib/postgresql/<major version>/bin, which is not on PATH. The newest
# major version wins when several are installed.
bin_dir() {
	local dir newest=""
	for dir in /usr/lib/postgresql/*/bin; do
		[[ -x "$dir/postgres" && -x "$dir/initdb" && -x "$dir/pg_isready" && -x "$dir/psql" ]] || continue
		if [[ -z "$newest" ]] || [[ "$(printf '%s\n%s\n' "$newest" "$dir" | sort -V | tail -n 1)" == "$dir" ]]; then
			newest="$dir"
		fi
	done
	[[ -n "$newest" ]] || return 1
	printf '%s\n' "$newest"
}

# The operating system user that runs the server and owns its files.
server_user() {
	if [[ "$(id -u)" == 0 ]]; then
		printf '%s\n' "$POSTGRES_OS_USER"
	else
		id -un
	fi
}

# Runs a command as the server user, from /, because the PostgreSQL programs
# warn when they cannot enter the current directory.
as_server_user() {
	if [[ "$(id -u)" == 0 ]]; then
		(cd / && exec setpriv --reuid="$POSTGRES_OS_USER" --regid="$(id -g "$POSTGRES_OS_USER")" --init-groups -- "$@")
	else
		(cd / && exec "$@")
	fi
}

# The directory of the Unix socket that provisioning connects through. A
# socket path must fit in 108 bytes (sun_path) and PostgreSQL appends
# /.s.PGSQL.<port>, so a deep checkout moves the socket to /tmp.
socket_dir() {
	if ((${#POSTGRES_DIR} < 80)); then
		printf '%s\n' "$POSTGRES_DIR"
	else
		printf '%s\n' "${TMPDIR:-/tmp}"
	fi
}

is_running() {
	sluice_pid_alive "$POSTGRES_PID_FILE" "$POSTGRES_DATA_DIR"
}

cmd_install() {
	if ! bin_dir >/dev/null; then
		# Debian's postinst creates a cluster on port 5432 and starts it
		# through invoke-rc.d, unless a policy-rc.d exits with 101 ("action
		# forbidden"). A policy-rc.d that already exists is left alone.
		local policy=/usr/sbin/policy-rc.d policy_added=false
		if [[ "$(id -u)" == 0 && ! -e "$policy" ]]; then
			printf '#!/bin/sh\n# Added by sluice deploy/local/postgres.sh during apt-get install.\nexit 101\n' >"$policy"
			chmod 755 "$policy"
			policy_added=true
			trap 'rm -f /usr/sbin/policy-rc.d' EXIT
		fi
		sluice_apt_install postgresql
		if [[ "$policy_added" == true ]]; then
			rm -f "$policy"
			trap - EXIT
		fi
		bin_dir >/dev/null || sluice_die "the postgresql package is installed, but no /usr/lib/postgresql/*/bin contains postgres, initdb, pg_isready and psql"
	fi
	if [[ "$(id -u)" == 0 ]] && ! id "$POSTGRES_OS_USER" >/dev/null 2>&1; then
		sluice_die "system user $POSTGRES_OS_USER does not exist; the postgresql package creates user postgres, or set POSTGRES_OS_USER to another user that is not root"
	fi
}

# Creates $POSTGRES_DIR for the server user and checks that this user can
# write there, which fails when a parent directory is closed to it.
prepare_dir() {
	local user
	user="$(server_user)"
	mkdir -p "$POSTGRES_DIR" "$POSTGRES_DATA_DIR"
	if [[ "$(id -u)" == 0 ]]; then
		chown "$user:" "$POSTGRES_DIR" "$POSTGRES_DATA_DIR"
	fi
	# initdb requires a data directory that only its owner can enter.
	chmod 700 "$POSTGRES_DATA_DIR"
	if ! as_server_user test -w "$POSTGRES_DIR" -a -w "$POSTGRES_DATA_DIR"; then
		sluice_die "user $user cannot write to $POSTGRES_DIR, probably because a parent directory is closed to it; set POSTGRES_DIR to a directory that $user can reach, such as /var/tmp/sluice-postgres"
	fi
}

# Runs psql as the superuser over the Unix socket, where peer authentication
# lets the server user in without a password.
superuser_client() {
	local user
	user="$(server_user)"
	as_server_user "$BIN_DIR/psql" -X -q -v ON_ERROR_STOP=1 --host="$(socket_dir)" --port="$POSTGRES_PORT" \
		--username="$user" --dbname=postgres "$@"
}

# Creates the login and its database. Every statement can run again, so a
# provisioning run that failed halfway is simply repeated on the next start.
provision() {
	[[ -f "$PROVISIONED_MARKER" ]] && return 0
	sluice_log "Creating login $POSTGRES_USER and database $POSTGRES_DB ..."
	# psql substitutes :'name' as a quoted literal and :"name" as a quoted
	# identifier, so the values need no escaping here.
	superuser_client -v user="$POSTGRES_USER" -v password="$POSTGRES_PASSWORD" -v db="$POSTGRES_DB" <<'EOF'
SELECT format('CREATE ROLE %I LOGIN', :'user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
EOF
	touch "$PROVISIONED_MARKER"
}

cmd_start() {
	BIN_DIR="$(bin_dir)" || sluice_die "PostgreSQL server programs not found; run: $0 install"

	if is_running; then
		provision
		sluice_log "PostgreSQL already running (pid $(<"$POSTGRES_PID_FILE")) on $POSTGRES_HOST:$POSTGRES_PORT."
		return 0
	fi
	if sluice_port_open "$POSTGRES_HOST" "$POSTGRES_PORT"; then
		sluice_die "port $POSTGRES_HOST:$POSTGRES_PORT is in use by another process; stop that process or set POSTGRES_PORT"
	fi

	prepare_dir
	if [[ ! -s "$POSTGRES_DATA_DIR/PG_VERSION" ]]; then
		sluice_log "Creating the PostgreSQL data directory $POSTGRES_DATA_DIR ..."
		rm -f "$PROVISIONED_MARKER"
		# Local (socket) logins use peer authentication and TCP logins a
		# SCRAM password, so only the server user gets in without one.
		if ! as_server_user "$BIN_DIR/initdb" --pgdata="$POSTGRES_DATA_DIR" --username="$(server_user)" \
			--auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
			>"$POSTGRES_DIR/initdb.log" 2>&1; then
			tail -n 30 "$POSTGRES_DIR/initdb.log" >&2
			sluice_die "initdb failed; full output in $POSTGRES_DIR/initdb.log"
		fi
	fi

	sluice_log "Starting PostgreSQL on $POSTGRES_HOST:$POSTGRES_PORT ..."
	# The settings go on the command line rather than into postgresql.conf,
	# so a change in env.sh takes effect at the next start. setsid detaches
	# the server from this shell's session, so a Ctrl-C in the terminal that
	# ran the script does not reach it.
	# $! is a subshell that ends when the server does, because
	# as_server_user, setpriv and setsid exec in place (setsid forks only in a
	# process group leader, which a background job of a script is not).
	as_server_user setsid "$BIN_DIR/postgres" -D "$POSTGRES_DATA_DIR" \
		-c listen_addresses="$POSTGRES_HOST" -c port="$POSTGRES_PORT" \
		-c unix_socket_directories="$(socket_dir)" -c external_pid_file="$POSTGRES_PID_FILE" \
		>>"$POSTGRES_LOG" 2>&1 </dev/null &
	local server_pid=$!

	local deadline=$((SECONDS + POSTGRES_START_TIMEOUT))
	# pg_isready exits 0 once the server accepts connections; it sends no login.
	until "$BIN_DIR/pg_isready" -q --host="$POSTGRES_HOST" --port="$POSTGRES_PORT" --timeout=2; do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			tail -n 30 "$POSTGRES_LOG" >&2
			sluice_die "postgres exited during startup; see $POSTGRES_LOG"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 30 "$POSTGRES_LOG" >&2
			# A half-started server would pass the "already running" check of the next start.
			kill -INT "$server_pid" 2>/dev/null || true
			sluice_die "PostgreSQL did not accept connections on $POSTGRES_HOST:$POSTGRES_PORT within ${POSTGRES_START_TIMEOUT}s, so it was stopped; see $POSTGRES_LOG, or raise POSTGRES_START_TIMEOUT on a slow machine"
		fi
		sleep 0.2
	done

	provision
	sluice_log "PostgreSQL running (pid $(<"$POSTGRES_PID_FILE"), user $(server_user)) on $POSTGRES_HOST:$POSTGRES_PORT."
}

cmd_stop() {
	if ! is_running; then
		sluice_log "PostgreSQL is not running."
		return 0
	fi
	# SIGINT requests a fast shutdown: the server disconnects its clients,
	# rolls back their open transactions and writes a checkpoint.
	sluice_stop_pid PostgreSQL "$(<"$POSTGRES_PID_FILE")" INT 60 fail
	sluice_log "PostgreSQL stopped."
}

cmd_status() {
	if is_running; then
		echo "PostgreSQL running (pid $(<"$POSTGRES_PID_FILE")) on $POSTGRES_HOST:$POSTGRES_PORT, data in $POSTGRES_DATA_DIR"
	else
		echo "PostgreSQL stopped"
		return 3
	fi
}

cmd_client() {
	is_running || sluice_die "PostgreSQL is not running; run: $0 start"
	BIN_DIR="$(bin_dir)" || sluice_die "psql not found; run: $0 install"
	# -X skips ~/.psqlrc, so a personal setting cannot change the session.
	PGPASSWORD="$POSTGRES_PASSWORD" exec "$BIN_DIR/psql" -X --host="$POSTGRES_HOST" --port="$POSTGRES_PORT" \
		--username="$POSTGRES_USER" --dbname="$POSTGRES_DB" "$@"
}

sluice_main "$@"
