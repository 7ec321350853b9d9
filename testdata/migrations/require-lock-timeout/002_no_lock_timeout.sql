-- Statements that take no write-blocking lock on an existing table come first.
CREATE TABLE refunds (id bigint PRIMARY KEY);
ALTER TABLE refunds ADD COLUMN amount numeric;
CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);
ALTER TABLE orders ADD COLUMN note text; -- want: require-lock-timeout
-- Once per file.
ALTER TABLE customers ADD COLUMN name text;
