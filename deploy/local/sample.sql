-- Sample database "shop" for trying sluice: four related InnoDB tables with
-- primary keys and a few seed rows. Every statement skips what already
-- exists, so running the file twice changes nothing.
--
-- The foreign keys have no ON DELETE CASCADE on purpose: InnoDB applies
-- cascaded changes itself, and MariaDB (seen with 10.11) writes no row events
-- for them to the binlog, so a CDC reader would never see the child rows go.

CREATE DATABASE IF NOT EXISTS shop
  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

USE shop;

CREATE TABLE IF NOT EXISTS customers (
  id         INT NOT NULL AUTO_INCREMENT,
  email      VARCHAR(255) NOT NULL,
  full_name  VARCHAR(100) NOT NULL,
  phone      VARCHAR(32) NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY customers_email (email)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS products (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  sku         VARCHAR(32) NOT NULL,
  name        VARCHAR(200) NOT NULL,
  price       DECIMAL(10, 2) NOT NULL,
  stock       INT NOT NULL DEFAULT 0,
  description TEXT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY products_sku (sku)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS orders (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  customer_id INT NOT NULL,
  status      VARCHAR(16) NOT NULL DEFAULT 'new',
  ordered_at  DATETIME NOT NULL,
  total       DECIMAL(10, 2) NOT NULL DEFAULT 0.00,
  note        VARCHAR(500) NULL,
  PRIMARY KEY (id),
  KEY orders_customer (customer_id),
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS order_items (
  order_id   BIGINT UNSIGNED NOT NULL,
  line_no    SMALLINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  quantity   INT NOT NULL,
  unit_price DECIMAL(10, 2) NOT NULL,
  PRIMARY KEY (order_id, line_no),
  KEY order_items_product (product_id),
  CONSTRAINT order_items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT order_items_product_fk FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB;

-- Seed rows with fixed ids; INSERT IGNORE skips rows that already exist.
-- The names include non-ASCII letters and an emoji to show utf8mb4 end to end.
INSERT IGNORE INTO customers (id, email, full_name, phone) VALUES
  (1, 'ada@example.com', 'Ada Lovelace', '+44 20 7946 0001'),
  (2, 'zoe@example.com', 'Zoë Ørsted', NULL),
  (3, 'kenji@example.com', '山田 健二', '+81 3 1234 5678');

INSERT IGNORE INTO products (id, sku, name, price, stock, description) VALUES
  (1, 'MUG-001', 'Coffee mug', 9.50, 120, 'Stoneware, 350 ml'),
  (2, 'TEE-002', 'T-shirt ☕', 19.99, 40, NULL),
  (3, 'KEY-003', 'Mechanical keyboard', 129.00, 8, 'Tenkeyless, brown switches'),
  (4, 'BIG-004', 'Espresso machine', 12999999.99, 1, 'Price near the DECIMAL(10,2) maximum');

INSERT IGNORE INTO orders (id, customer_id, status, ordered_at, total, note) VALUES
  (1, 1, 'shipped', '2026-11-30 09:15:00', 38.99, NULL),
  (2, 2, 'new', '2026-12-01 17:42:10', 129.00, 'Leave at the door 🙂');

INSERT IGNORE INTO order_items (order_id, line_no, product_id, quantity, unit_price) VALUES
  (1, 1, 1, 2, 9.50),
  (1, 2, 2, 1, 19.99),
  (2, 1, 3, 1, 129.00);
