#!/usr/bin/env bash
# Installs, starts and stops a local Azurite, the Azure Blob Storage emulator,
# for the azblob position tracker. Only its blob service runs, listening on
# 127.0.0.1 with telemetry off. npm installs the package into $AZURITE_INSTALL_DIR,
# and the blobs live under $AZURITE_DATA_DIR.
#
# Usage: azurite.sh install|start|stop|status
set -euo pipefail

# shellcheck source=env.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

AZURITE_BLOB_BIN="$AZURITE_INSTALL_DIR/node_modules/.bin/azurite-blob"
# Version of the package in $AZURITE_INSTALL_DIR. The file is written last, so
# an install that failed halfway is not taken for a finished one.
INSTALL_STAMP="$AZURITE_INSTALL_DIR/.version"

usage() {
	cat >&2 <<EOF
Usage: $(basename "$0") COMMAND

Commands:
  install  install azurite $AZURITE_VERSION from npm into $AZURITE_INSTALL_DIR if missing
  start    start the blob service on $AZURITE_HOST:$AZURITE_BLOB_PORT and wait until the port accepts connections
  stop     stop the blob service (data is kept)
  status   print whether the blob service runs (exit status 0 when it runs, 3 when not)
EOF
}

# The data directory appears on Azurite's command line and is unique to this
# state folder, so it distinguishes this Azurite from any other node process.
is_running() {
	sluice_pid_alive "$AZURITE_PID_FILE" "$AZURITE_DATA_DIR"
}

is_installed() {
	[[ -x "$AZURITE_BLOB_BIN" && -f "$INSTALL_STAMP" && "$(<"$INSTALL_STAMP")" == "$AZURITE_VERSION" ]]
}

cmd_install() {
	if is_installed; then
		return 0
	fi
	command -v npm >/dev/null || sluice_apt_install nodejs npm

	sluice_log "Installing azurite $AZURITE_VERSION with npm into $AZURITE_INSTALL_DIR ..."
	local staging="$AZURITE_INSTALL_DIR.partial" npm_log
	rm -rf "$staging"
	mkdir -p "$staging"
	npm_log="$(dirname "$AZURITE_INSTALL_DIR")/azurite-npm.log"
	# A package.json of its own keeps npm from walking up to a project above.
	printf '{"name":"sluice-local-azurite","private":true}\n' >"$staging/package.json"
	if ! npm install --prefix "$staging" --no-audit --no-fund --no-update-notifier \
		--save-exact "azurite@$AZURITE_VERSION" >"$npm_log" 2>&1; then
		tail -n 30 "$npm_log" >&2
		sluice_die "npm could not install azurite $AZURITE_VERSION; full output in $npm_log"
	fi
	rm -rf "$AZURITE_INSTALL_DIR"
	mv "$staging" "$AZURITE_INSTALL_DIR"
	printf '%s\n' "$AZURITE_VERSION" >"$INSTALL_STAMP"
	sluice_log "Azurite $AZURITE_VERSION installed."
}

cmd_start() {
	is_installed || sluice_die "azurite $AZURITE_VERSION is not installed; run: $0 install"

	if is_running; then
		sluice_log "Azurite already running (pid $(<"$AZURITE_PID_FILE")) on $AZURITE_HOST:$AZURITE_BLOB_PORT."
		return 0
	fi
	if sluice_port_open "$AZURITE_HOST" "$AZURITE_BLOB_PORT"; then
		sluice_die "port $AZURITE_HOST:$AZURITE_BLOB_PORT is in use by another process; stop that process or set AZURITE_BLOB_PORT"
	fi
	mkdir -p "$AZURITE_DATA_DIR"

	sluice_log "Starting Azurite $AZURITE_VERSION (blob service) on $AZURITE_HOST:$AZURITE_BLOB_PORT ..."
	# --disableTelemetry: Azurite otherwise sends usage data to Microsoft.
	# --skipApiVersionCheck: newer SDKs send a service API version that this
	# Azurite does not know yet, and Azurite rejects such requests otherwise.
	# setsid detaches node from this shell's session, so a Ctrl-C in the
	# terminal that ran the script does not reach it. AZURITE_ACCOUNTS would
	# replace the development account, and AZURITE_DB would move the metadata
	# into a SQL database, so neither may leak in from the caller's environment.
	env -u AZURITE_ACCOUNTS -u AZURITE_DB setsid "$AZURITE_BLOB_BIN" \
		--blobHost "$AZURITE_HOST" --blobPort "$AZURITE_BLOB_PORT" \
		--location "$AZURITE_DATA_DIR" \
		--disableTelemetry --skipApiVersionCheck >>"$AZURITE_LOG" 2>&1 </dev/null &
	local server_pid=$!
	printf '%s\n' "$server_pid" >"$AZURITE_PID_FILE"

	local deadline=$((SECONDS + AZURITE_START_TIMEOUT))
	until sluice_port_open "$AZURITE_HOST" "$AZURITE_BLOB_PORT"; do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			tail -n 30 "$AZURITE_LOG" >&2 2>/dev/null || true
			sluice_die "Azurite exited during startup; see $AZURITE_LOG"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 30 "$AZURITE_LOG" >&2 2>/dev/null || true
			# A half-started process would pass the "already running" check of the next start.
			kill -TERM "$server_pid" 2>/dev/null || true
			sluice_die "Azurite did not accept connections on $AZURITE_HOST:$AZURITE_BLOB_PORT within ${AZURITE_START_TIMEOUT}s, so it was stopped; see $AZURITE_LOG, or raise AZURITE_START_TIMEOUT on a slow machine"
		fi
		sleep 0.2
	done
	sluice_log "Azurite running (pid $server_pid) on $AZURITE_HOST:$AZURITE_BLOB_PORT."
}

cmd_stop() {
	if ! is_running; then
		sluice_log "Azurite is not running."
		rm -f "$AZURITE_PID_FILE"
		return 0
	fi
	# SIGTERM lets Azurite save its blob metadata, which it otherwise saves
	# every 5 seconds, before it exits.
	sluice_stop_pid Azurite "$(<"$AZURITE_PID_FILE")" TERM 30 kill
	rm -f "$AZURITE_PID_FILE"
	sluice_log "Azurite stopped."
}

cmd_status() {
	if is_running; then
		echo "Azurite $AZURITE_VERSION running (pid $(<"$AZURITE_PID_FILE")) on $AZURITE_BLOB_ENDPOINT, data in $AZURITE_DATA_DIR"
	else
		echo "Azurite stopped"
		return 3
	fi
}

sluice_main "$@"
