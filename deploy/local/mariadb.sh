#!/usr/bin/env bash
# Installs, starts and stops a local MariaDB server set up as a CDC source
# (row-based binlog with full row images and full metadata), bound to
# 127.0.0.1 only, with its data, config and log under $SLUICE_LOCAL_DIR.
#
# Usage: mariadb.sh install|start|stop|status|client [mariadb client args...]
set -euo pipefail

# shellcheck source=env.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# Debian installs mariadbd and mariadb-install-db in /usr/sbin, which a
# non-login shell may not have on its PATH.
PATH="$PATH:/usr/sbin:/sbin"

# Written once the users and time zone tables exist, so later starts skip that work.
PROVISIONED_MARKER="$MARIADB_DIR/provisioned"

# A Unix socket path must fit in 108 bytes (sun_path). A deep checkout would
# exceed it, so the socket then moves to /tmp.
socket_path() {
	if ((${#MARIADB_SOCKET} < 100)); then
		printf '%s\n' "$MARIADB_SOCKET"
	else
		printf '%s\n' "${TMPDIR:-/tmp}/sluice-mariadb-$MARIADB_PORT.sock"
	fi
}

usage() {
	cat >&2 <<EOF
Usage: $(basename "$0") COMMAND

Commands:
  install           install the Debian mariadb-server and mariadb-client packages if missing
  start             create the data directory on first use, start the server, wait until it accepts connections
  stop              shut the server down cleanly (data is kept)
  status            print whether the server runs (exit status 0 when it runs, 3 when not)
  client [ARGS...]  run the mariadb client as root over TCP, passing ARGS (stdin is forwarded)
EOF
}

is_running() {
	sluice_pid_alive "$MARIADB_PID_FILE" "$MARIADB_CONFIG"
}

# Stops a server that the Debian package started with its own datadir, because
# it would occupy port 3306 and memory that sluice does not use.
# NOTE: not exercised so far, because policy-rc.d kept the service from
# starting on every machine this ran on.
stop_packaged_service() {
	local pid_file=/run/mysqld/mysqld.pid pid
	[[ -s "$pid_file" ]] || return 0
	pid="$(<"$pid_file")"
	[[ -d "/proc/$pid" ]] || return 0
	sluice_log "Stopping the MariaDB service started by the Debian package (pid $pid) ..."
	if [[ -x /etc/init.d/mariadb ]]; then
		/etc/init.d/mariadb stop >&2 || kill -TERM "$pid" 2>/dev/null || true
	else
		kill -TERM "$pid" 2>/dev/null || true
	fi
}

cmd_install() {
	local missing=() command_name
	for command_name in mariadbd mariadb mariadb-admin mariadb-install-db mariadb-tzinfo-to-sql; do
		command -v "$command_name" >/dev/null || missing+=("$command_name")
	done

	if ((${#missing[@]} > 0)); then
		# Debian's postinst starts the packaged service through invoke-rc.d,
		# unless a policy-rc.d exits with 101 ("action forbidden"). A
		# policy-rc.d that already exists is left alone.
		local policy=/usr/sbin/policy-rc.d policy_added=false
		if [[ ! -e "$policy" ]]; then
			printf '#!/bin/sh\n# Added by sluice deploy/local/mariadb.sh during apt-get install.\nexit 101\n' >"$policy"
			chmod 755 "$policy"
			policy_added=true
			trap 'rm -f /usr/sbin/policy-rc.d' EXIT
		fi
		sluice_apt_install mariadb-server mariadb-client
		if [[ "$policy_added" == true ]]; then
			rm -f "$policy"
			trap - EXIT
		fi
		stop_packaged_service
	fi

	# The time zone tables are built from the system zoneinfo files.
	if [[ ! -d /usr/share/zoneinfo ]]; then
		sluice_apt_install tzdata
	fi
}

write_config() {
	mkdir -p "$MARIADB_DIR" "$MARIADB_DATA_DIR"
	cat >"$MARIADB_CONFIG" <<EOF
# Written by deploy/local/mariadb.sh on every start; edit env.sh or the script instead.
[mysqld]
# mariadbd does not run as root unless the config names root as its user.
user = $(id -un)
datadir = $MARIADB_DATA_DIR
bind-address = $MARIADB_HOST
port = $MARIADB_PORT
socket = $(socket_path)
pid-file = $MARIADB_PID_FILE
log-error = $MARIADB_LOG
# Accounts match by IP address, and no reverse DNS lookup can stall a connect.
skip-name-resolve

# Binlog settings for change data capture. FULL row metadata puts column
# names, signedness and the primary key into every TABLE_MAP event.
server_id = 1
log_bin = mariadb-bin
binlog_format = ROW
binlog_row_image = FULL
binlog_row_metadata = FULL

character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
EOF
}

# Runs the mariadb client as root over the Unix socket. It works before
# root@127.0.0.1 exists, because mariadb-install-db creates only root@localhost.
socket_client() {
	mariadb --no-defaults --protocol=SOCKET --socket="$(socket_path)" --user=root \
		--default-character-set=utf8mb4 "$@"
}

# Escapes a value for a single-quoted SQL string literal.
sql_quote() {
	local value="${1//\\/\\\\}"
	printf "'%s'" "${value//\'/\'\'}"
}

# Creates the accounts that tests and sluice use and loads the time zone tables.
# Every statement can run again, so a provisioning run that failed halfway is
# simply repeated on the next start.
provision() {
	[[ -f "$PROVISIONED_MARKER" ]] && return 0
	sluice_log "Creating users root@127.0.0.1 and $MARIADB_USER, loading time zone tables ..."

	local user password host grants=""
	user="$(sql_quote "$MARIADB_USER")"
	password="$(sql_quote "$MARIADB_PASSWORD")"
	for host in "'127.0.0.1'" "'localhost'" "'%'"; do
		grants+="CREATE USER IF NOT EXISTS $user@$host IDENTIFIED BY $password;
ALTER USER $user@$host IDENTIFIED BY $password;
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT,
  BINLOG MONITOR, REPLICATION SLAVE ADMIN ON *.* TO $user@$host;
"
	done

	# sql_log_bin=0 keeps the setup out of the binlog that sluice reads.
	socket_client <<EOF
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
$grants
EOF

	# The tool warns on stderr about files that are not time zones (leap
	# seconds, tzdata.zi); those warnings go to a log file.
	mariadb-tzinfo-to-sql --no-defaults --skip-write-binlog /usr/share/zoneinfo 2>"$MARIADB_DIR/tzinfo.log" |
		socket_client mysql

	touch "$PROVISIONED_MARKER"
}

cmd_start() {
	command -v mariadbd >/dev/null || sluice_die "mariadbd not found; run: $0 install"

	if is_running; then
		provision
		sluice_log "MariaDB already running (pid $(<"$MARIADB_PID_FILE")) on $MARIADB_HOST:$MARIADB_PORT."
		return 0
	fi
	if sluice_port_open "$MARIADB_HOST" "$MARIADB_PORT"; then
		sluice_die "port $MARIADB_HOST:$MARIADB_PORT is in use by another process; stop that process or set MARIADB_PORT"
	fi

	write_config
	if [[ ! -d "$MARIADB_DATA_DIR/mysql" ]]; then
		sluice_log "Creating the MariaDB data directory $MARIADB_DATA_DIR ..."
		rm -f "$PROVISIONED_MARKER"
		# --defaults-file must come first, or mariadb-install-db rejects it.
		if ! mariadb-install-db --defaults-file="$MARIADB_CONFIG" \
			--auth-root-authentication-method=normal --skip-test-db \
			>"$MARIADB_DIR/install-db.log" 2>&1; then
			tail -n 30 "$MARIADB_DIR/install-db.log" >&2
			sluice_die "mariadb-install-db failed; full output in $MARIADB_DIR/install-db.log"
		fi
	fi

	sluice_log "Starting MariaDB on $MARIADB_HOST:$MARIADB_PORT ..."
	# setsid detaches the server from this shell's session, so a Ctrl-C in
	# the terminal that ran the script does not reach it.
	setsid mariadbd --defaults-file="$MARIADB_CONFIG" >>"$MARIADB_LOG" 2>&1 </dev/null &
	local server_pid=$!

	local deadline=$((SECONDS + MARIADB_START_TIMEOUT))
	# mariadb-admin ping exits 0 once the server accepts connections, even
	# when it rejects the login.
	until mariadb-admin --no-defaults --protocol=TCP --host="$MARIADB_HOST" --port="$MARIADB_PORT" \
		--user=root --connect-timeout=2 ping >/dev/null 2>&1; do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			tail -n 30 "$MARIADB_LOG" >&2
			sluice_die "mariadbd exited during startup; see $MARIADB_LOG"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 30 "$MARIADB_LOG" >&2
			# A half-started server would pass the "already running" check of the next start.
			kill -TERM "$server_pid" 2>/dev/null || true
			sluice_die "MariaDB did not accept connections on $MARIADB_HOST:$MARIADB_PORT within ${MARIADB_START_TIMEOUT}s, so it was stopped; see $MARIADB_LOG, or raise MARIADB_START_TIMEOUT on a slow machine"
		fi
		sleep 0.2
	done

	provision
	sluice_log "MariaDB running (pid $server_pid) on $MARIADB_HOST:$MARIADB_PORT."
}

cmd_stop() {
	if ! is_running; then
		sluice_log "MariaDB is not running."
		return 0
	fi
	local pid
	pid="$(<"$MARIADB_PID_FILE")"
	sluice_log "Stopping MariaDB (pid $pid) ..."
	# mariadbd treats SIGTERM as a normal shutdown: it flushes InnoDB and closes the binlog.
	kill -TERM "$pid"
	local deadline=$((SECONDS + 60))
	while [[ -d "/proc/$pid" ]]; do
		if ((SECONDS >= deadline)); then
			sluice_die "MariaDB (pid $pid) did not stop within 60s; see $MARIADB_LOG"
		fi
		sleep 0.2
	done
	sluice_log "MariaDB stopped."
}

cmd_status() {
	if is_running; then
		echo "MariaDB running (pid $(<"$MARIADB_PID_FILE")) on $MARIADB_HOST:$MARIADB_PORT, data in $MARIADB_DATA_DIR"
	else
		echo "MariaDB stopped"
		return 3
	fi
}

cmd_client() {
	is_running || sluice_die "MariaDB is not running; run: $0 start"
	# --no-defaults keeps option files such as ~/.my.cnf from changing the
	# login; it must be the first option.
	exec mariadb --no-defaults --protocol=TCP --host="$MARIADB_HOST" --port="$MARIADB_PORT" \
		--user=root --default-character-set=utf8mb4 "$@"
}

sluice_main "$@"
