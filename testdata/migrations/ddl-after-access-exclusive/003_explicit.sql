-- Waiting for a lock on another table while holding ACCESS EXCLUSIVE.
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE customers ADD COLUMN email text; -- want: ddl-after-access-exclusive
COMMIT;

-- A scan under a weaker lock keeps the strong one for its whole duration.
BEGIN;
ALTER TABLE orders ADD COLUMN region text;
CREATE INDEX orders_region_idx ON orders (region); -- want: ddl-after-access-exclusive
COMMIT;

-- INSERT … SELECT copies rows while the lock is held.
BEGIN;
ALTER TABLE customers ADD COLUMN vip boolean;
CREATE TABLE order_archive (id bigint PRIMARY KEY, total numeric);
INSERT INTO order_archive SELECT id, total FROM orders; -- want: ddl-after-access-exclusive
COMMIT;

-- Quick statements after the lock are fine.
BEGIN;
ALTER TABLE orders ADD COLUMN currency text;
ALTER TABLE orders ALTER COLUMN currency SET DEFAULT 'EUR';
COMMENT ON COLUMN orders.currency IS 'ISO 4217';
INSERT INTO settings (key, value) VALUES ('currency', 'EUR');
CREATE TABLE currencies (code text PRIMARY KEY);
COMMIT;

-- Slow statements without an ACCESS EXCLUSIVE lock held before them.
BEGIN;
CREATE INDEX orders_total_idx ON orders (total);
UPDATE orders SET total = 0 WHERE total IS NULL;
COMMIT;

-- Autocommit: each statement commits on its own.
ALTER TABLE orders ADD COLUMN priority int;
UPDATE orders SET priority = 0 WHERE shipped;

-- A SELECT without WHERE reads a whole table while the lock is held.
BEGIN;
ALTER TABLE orders ADD COLUMN weight numeric;
SELECT count(*) FROM customers; -- want: ddl-after-access-exclusive
COMMIT;

-- A SELECT of a few rows, or of no table, is quick.
BEGIN;
ALTER TABLE orders ADD COLUMN height numeric;
SELECT value FROM settings WHERE key = 'currency';
SELECT set_config('app.migrating', 'on', true);
COMMIT;
