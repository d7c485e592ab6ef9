#!/usr/bin/env bash
# Installs (on the first run) and starts (when not running) the local MariaDB,
# PostgreSQL and Kafka servers, the Azurite blob emulator, the Apicurio schema
# registry and the kcat client, then prints how to reach them.
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

# The Kafka jar download (Maven), the Azurite install (npm), the Apicurio
# download (Maven) and the Debian installs do not depend on each other, so
# Kafka, Azurite and Apicurio install and start in the background meanwhile.
# Their output is printed once they finish, so they do not interleave.
kafka_output="$(mktemp)"
azurite_output="$(mktemp)"
apicurio_output="$(mktemp)"
trap 'rm -f "$kafka_output" "$azurite_output" "$apicurio_output"' EXIT
("$here/kafka.sh" install && "$here/kafka.sh" start) >"$kafka_output" 2>&1 &
kafka_job=$!
("$here/azurite.sh" install && "$here/azurite.sh" start) >"$azurite_output" 2>&1 &
azurite_job=$!
("$here/apicurio.sh" install && "$here/apicurio.sh" start) >"$apicurio_output" 2>&1 &
apicurio_job=$!

mariadb_status=0
{ "$here/mariadb.sh" install && "$here/kcat.sh" install && "$here/mariadb.sh" start; } || mariadb_status=$?

# PostgreSQL installs after MariaDB rather than beside it, because both
# installs add and remove /usr/sbin/policy-rc.d.
postgres_status=0
{ "$here/postgres.sh" install && "$here/postgres.sh" start; } || postgres_status=$?

kafka_status=0
wait "$kafka_job" || kafka_status=$?
cat "$kafka_output" >&2

azurite_status=0
wait "$azurite_job" || azurite_status=$?
cat "$azurite_output" >&2

apicurio_status=0
wait "$apicurio_job" || apicurio_status=$?
cat "$apicurio_output" >&2

if ((mariadb_status != 0)); then
	sluice_die "installing or starting MariaDB or kcat failed (exit status $mariadb_status); see the messages above"
fi
if ((postgres_status != 0)); then
	sluice_die "installing or starting PostgreSQL failed (exit status $postgres_status); see the messages above"
fi
if ((kafka_status != 0)); then
	sluice_die "installing or starting Kafka failed (exit status $kafka_status); see the messages above"
fi
if ((azurite_status != 0)); then
	sluice_die "installing or starting Azurite failed (exit status $azurite_status); see the messages above"
fi
if ((apicurio_status != 0)); then
	sluice_die "installing or starting Apicurio Registry failed (exit status $apicurio_status); see the messages above"
fi

cat <<EOF

Local servers are running (state in $SLUICE_LOCAL_DIR):
  MariaDB  $MARIADB_HOST:$MARIADB_PORT  user $MARIADB_USER, password $MARIADB_PASSWORD; root has no password
           shell: deploy/local/mariadb.sh client    log: $MARIADB_LOG
  PostgreSQL $POSTGRES_HOST:$POSTGRES_PORT  user $POSTGRES_USER, password $POSTGRES_PASSWORD, database $POSTGRES_DB
           shell: deploy/local/postgres.sh client    log: $POSTGRES_LOG
  Kafka    $KAFKA_BOOTSTRAP_SERVERS  (Kafka $KAFKA_VERSION, one KRaft node)    log: $KAFKA_LOG
           list topics: kcat -b $KAFKA_BOOTSTRAP_SERVERS -L
           tools: java -cp "\$(deploy/local/kafka.sh classpath)" org.apache.kafka.tools.TopicCommand --help
  Azurite  $AZURITE_BLOB_ENDPOINT  (blob service, Azurite $AZURITE_VERSION)    log: $AZURITE_LOG
           connection string: $AZURITE_CONNECTION_STRING
  Apicurio $APICURIO_CCOMPAT_URL  (Confluent-compatible schema registry API, Apicurio Registry $APICURIO_VERSION)
           schemas are kept in memory and lost at stop    log: $APICURIO_LOG
Stop with deploy/local/down.sh (data is kept); deploy/local/down.sh --wipe also deletes the data.
EOF
