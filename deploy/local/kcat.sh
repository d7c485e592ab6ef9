#!/usr/bin/env bash
# Installs kcat, the command-line Kafka producer and consumer, from Debian.
# Debian's kcat 1.7.1 prints JSON (-J) and reads transactional topics with
# read_committed, librdkafka's default, but has no Avro or schema registry support.
#
# Usage: kcat.sh install
set -euo pipefail

# shellcheck source=env.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

case "${1:-}" in
install)
	command -v kcat >/dev/null || sluice_apt_install kcat
	;;
*)
	echo "Usage: $(basename "$0") install" >&2
	exit 2
	;;
esac
