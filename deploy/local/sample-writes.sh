#!/usr/bin/env bash
# Makes N small changes (default 20) to the sample database "shop", one per
# second, so that a running sluice has row changes to stream. The changes
# rotate through inserts, updates, deletes and multi-table transactions.
# Creates "shop" first (sample.sh) when it is missing.
#
# Usage: sample-writes.sh [N]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

count="${1:-20}"
if [[ $# -gt 1 || ! "$count" =~ ^[1-9][0-9]*$ ]]; then
	echo "Usage: $(basename "$0") [N]   (N: number of changes, a positive integer; default 20)" >&2
	exit 2
fi

"$here/sample.sh" >/dev/null

# Runs SQL against shop and prints the result rows without headers.
run_sql() {
	"$here/mariadb.sh" client --batch --skip-column-names shop -e "$1"
}

insert_customer() {
	local tag
	tag="$(date +%s)-$1"
	run_sql "INSERT INTO customers (email, full_name, phone)
		VALUES ('sample-$tag@example.com', 'Sample customer $tag', NULL);
		SELECT CONCAT('inserted customer ', LAST_INSERT_ID())"
}

update_product() {
	run_sql "SELECT id INTO @product_id FROM products ORDER BY RAND() LIMIT 1;
		UPDATE products
		SET price = ROUND(price * (0.9 + RAND() * 0.2), 2), stock = stock + FLOOR(1 + RAND() * 10)
		WHERE id = @product_id;
		SELECT CONCAT('updated price and stock of product ', @product_id)"
}

# One transaction over three tables: the order, its items and the stock.
place_order() {
	run_sql "START TRANSACTION;
		INSERT INTO orders (customer_id, status, ordered_at, note)
		SELECT id, 'new', NOW(), 'sample-writes' FROM customers ORDER BY RAND() LIMIT 1;
		SET @order_id = LAST_INSERT_ID();
		INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price)
		SELECT @order_id, ROW_NUMBER() OVER (ORDER BY id), id, FLOOR(1 + RAND() * 3), price
		FROM (SELECT id, price FROM products WHERE stock > 3 ORDER BY RAND() LIMIT 2) AS picked;
		UPDATE products JOIN order_items ON order_items.product_id = products.id
		SET products.stock = products.stock - order_items.quantity
		WHERE order_items.order_id = @order_id;
		UPDATE orders
		SET total = (SELECT COALESCE(SUM(quantity * unit_price), 0) FROM order_items WHERE order_id = @order_id)
		WHERE id = @order_id;
		COMMIT;
		SELECT CONCAT('placed order ', @order_id, ' with ',
			(SELECT COUNT(*) FROM order_items WHERE order_id = @order_id),
			' items (orders, order_items and products in one transaction)')"
}

advance_order() {
	run_sql "SET @order_id = NULL;
		SELECT id INTO @order_id FROM orders WHERE status IN ('new', 'paid') ORDER BY id LIMIT 1;
		UPDATE orders SET status = IF(status = 'new', 'paid', 'shipped') WHERE id = @order_id;
		SELECT IF(@order_id IS NULL, 'no open order to advance',
			CONCAT('order ', @order_id, ' is now ', (SELECT status FROM orders WHERE id = @order_id)))"
}

# Sets a NULL phone number or clears a set one, to show NULL in both directions.
toggle_phone() {
	run_sql "SELECT id INTO @customer_id FROM customers ORDER BY RAND() LIMIT 1;
		UPDATE customers SET phone = IF(phone IS NULL, CONCAT('+31 20 555 ', LPAD(id, 4, '0')), NULL)
		WHERE id = @customer_id;
		SELECT CONCAT('customer ', @customer_id, ' phone is now ',
			COALESCE((SELECT phone FROM customers WHERE id = @customer_id), 'NULL'))"
}

# Deletes the newest order this script placed, children first, because the
# foreign keys do not cascade.
delete_order() {
	run_sql "SET @order_id = NULL;
		START TRANSACTION;
		SELECT id INTO @order_id FROM orders
		WHERE note = 'sample-writes' AND status = 'new' ORDER BY id DESC LIMIT 1;
		DELETE FROM order_items WHERE order_id = @order_id;
		DELETE FROM orders WHERE id = @order_id;
		COMMIT;
		SELECT IF(@order_id IS NULL, 'no new sample order to delete',
			CONCAT('deleted order ', @order_id, ' and its items in one transaction'))"
}

steps=(insert_customer update_product place_order advance_order toggle_phone delete_order)
for ((i = 1; i <= count; i++)); do
	step="${steps[(i - 1) % ${#steps[@]}]}"
	printf '[%d/%d] %s\n' "$i" "$count" "$("$step" "$i")"
	if ((i < count)); then
		sleep 1
	fi
done
