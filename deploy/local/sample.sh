#!/usr/bin/env bash
# Creates the sample database "shop" (sample.sql) in the local MariaDB unless
# it already exists. An existing "shop" is left unchanged.
#
# Usage: sample.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ $# -gt 0 ]]; then
	echo "Usage: $(basename "$0")  (takes no arguments)" >&2
	exit 2
fi

existing="$("$here/mariadb.sh" client --batch --skip-column-names \
	-e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'shop'")"
if [[ "$existing" != 0 ]]; then
	echo "Database shop already exists; left unchanged."
	exit 0
fi

"$here/mariadb.sh" client <"$here/sample.sql"
echo "Created database shop:"
"$here/mariadb.sh" client --table shop -e "
	SELECT 'customers' AS table_name, COUNT(*) AS row_count FROM customers
	UNION ALL SELECT 'products', COUNT(*) FROM products
	UNION ALL SELECT 'orders', COUNT(*) FROM orders
	UNION ALL SELECT 'order_items', COUNT(*) FROM order_items"
