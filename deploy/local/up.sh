#!/usr/bin/env bash
# Installs (on the first run) and starts (when not running) the local MariaDB
# and Kafka servers and the kcat client, then prints how to reach them.
# A run that finds everything installed and running only checks and prints.
#
# Usage: up.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh source-path=SCRIPTDIR
. "$here/env.sh"

if [[ $# -gt 0 ]]; then
	echo "Usage: $(basename "$0")  (takes no arguments; settings come from the environment, see env.sh)" >&2
	exit 2
fi

mkdir -p "$SLUICE_LOCAL_DIR"

# The Kafka jar download (Maven) and the Debian installs do not depend on each
# other, so Kafka installs and starts in the background meanwhile. Its output
# is printed once it finishes, so the two do not interleave.
kafka_output="$(mktemp)"
trap 'rm -f "$kafka_output"' EXIT
("$here/kafka.sh" install && "$here/kafka.sh" start) >"$kafka_output" 2>&1 &
kafka_job=$!

mariadb_status=0
{ "$here/mariadb.sh" install && "$here/kcat.sh" install && "$here/mariadb.sh" start; } || mariadb_status=$?

kafka_status=0
wait "$kafka_job" || kafka_status=$?
cat "$kafka_output" >&2

if ((mariadb_status != 0)); then
	sluice_die "installing or starting MariaDB or kcat failed (exit status $mariadb_status); see the messages above"
fi
if ((kafka_status != 0)); then
	sluice_die "installing or starting Kafka failed (exit status $kafka_status); see the messages above"
fi

cat <<EOF

Local servers are running (state in $SLUICE_LOCAL_DIR):
  MariaDB  $MARIADB_HOST:$MARIADB_PORT  user $MARIADB_USER, password $MARIADB_PASSWORD; root has no password
           shell: deploy/local/mariadb.sh client    log: $MARIADB_LOG
  Kafka    $KAFKA_BOOTSTRAP_SERVERS  (Kafka $KAFKA_VERSION, one KRaft node)    log: $KAFKA_LOG
           list topics: kcat -b $KAFKA_BOOTSTRAP_SERVERS -L
           tools: java -cp "\$(deploy/local/kafka.sh classpath)" org.apache.kafka.tools.TopicCommand --help
Stop with deploy/local/down.sh (data is kept); deploy/local/down.sh --wipe also deletes the data.
EOF
