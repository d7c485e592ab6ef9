#!/usr/bin/env bash
# Stops the local Kafka, MariaDB, PostgreSQL, Azurite and Apicurio servers and
# keeps their data, except Apicurio's schemas, which live in memory only.
# With --wipe it also deletes $SLUICE_LOCAL_DIR (data, config, logs), but not
# the download cache $SLUICE_CACHE_DIR or Maven's ~/.m2.
#
# Usage: down.sh [--wipe]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh source-path=SCRIPTDIR
. "$here/env.sh"

usage() {
	echo "Usage: $(basename "$0") [--wipe]   (--wipe also deletes $SLUICE_LOCAL_DIR)" >&2
}

wipe=false
case "${1:-}" in
"") ;;
--wipe) wipe=true ;;
-h | --help)
	usage
	exit 0
	;;
*)
	usage
	exit 2
	;;
esac

# Every server gets a stop request even when an earlier stop fails.
status=0
"$here/kafka.sh" stop || status=$?
"$here/mariadb.sh" stop || status=$?
"$here/postgres.sh" stop || status=$?
"$here/azurite.sh" stop || status=$?
"$here/apicurio.sh" stop || status=$?
if ((status != 0)); then
	sluice_die "a server did not stop; $SLUICE_LOCAL_DIR was left as it is"
fi

if [[ "$wipe" == true ]]; then
	[[ -e "$SLUICE_LOCAL_DIR" ]] || exit 0
	local_dir="$(realpath "$SLUICE_LOCAL_DIR")"
	# Guard against an override that points at something other than a state folder.
	for protected in / "$HOME" "$(realpath "$SLUICE_REPO_DIR")" "$(realpath -m "$SLUICE_CACHE_DIR")"; do
		if [[ "$local_dir" == "$protected" || "$protected/" == "$local_dir/"* ]]; then
			sluice_die "not deleting SLUICE_LOCAL_DIR=$local_dir, because it is or contains $protected; point SLUICE_LOCAL_DIR at a state folder"
		fi
	done
	rm -rf -- "$local_dir"
	sluice_log "Deleted $local_dir."
fi
