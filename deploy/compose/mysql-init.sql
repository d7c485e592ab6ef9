-- Runs once, when the mysql container starts on an empty data directory.
-- The mysql:8.4 entrypoint executes every *.sql file in
-- /docker-entrypoint-initdb.d/ as root, in name order.

-- Replication account for sluice. SELECT and SHOW DATABASES allow reading
-- schemas and rows, and RELOAD allows FLUSH statements. REPLICATION SLAVE
-- allows streaming the binlog as a replica, and REPLICATION CLIENT allows
-- SHOW BINARY LOG STATUS and SHOW BINARY LOGS.
CREATE USER IF NOT EXISTS 'sluice'@'%' IDENTIFIED BY 'sluice';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT
    ON *.* TO 'sluice'@'%';

-- Sample schema whose row changes sluice streams to Kafka.
CREATE DATABASE IF NOT EXISTS shop;
USE shop;

CREATE TABLE customers (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    email      VARCHAR(255)    NOT NULL,
    name       VARCHAR(255)    NOT NULL,
    created_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY customers_email (email)
);

CREATE TABLE orders (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    customer_id BIGINT UNSIGNED NOT NULL,
    status      ENUM('pending', 'paid', 'shipped', 'cancelled') NOT NULL DEFAULT 'pending',
    total       DECIMAL(12, 2)  NOT NULL,
    note        JSON            NULL,
    updated_at  TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                                ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY orders_customer (customer_id),
    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
);

INSERT INTO customers (email, name) VALUES
    ('ada@example.com', 'Ada Lovelace'),
    ('grace@example.com', 'Grace Hopper');

INSERT INTO orders (customer_id, status, total, note) VALUES
    (1, 'paid', 42.50, JSON_OBJECT('gift', TRUE)),
    (2, 'pending', 9.99, NULL);
