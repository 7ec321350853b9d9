-- Scans under locks that let writes through, and new tables, are not flagged.
ALTER TABLE orders ADD CONSTRAINT orders_total_small CHECK (total < 1000000) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_small;
CREATE TABLE refunds (id bigint PRIMARY KEY, amount integer);
ALTER TABLE refunds ALTER COLUMN amount TYPE bigint;
CREATE INDEX refunds_amount_idx ON refunds (amount);
