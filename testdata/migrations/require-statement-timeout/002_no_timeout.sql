SET lock_timeout = '2s';
-- Instant statements need no statement_timeout.
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders ALTER COLUMN customer_id TYPE bigint; -- want: require-statement-timeout
-- Once per file.
CREATE INDEX orders_total_idx ON orders (total);
