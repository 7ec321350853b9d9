ALTER TABLE orders VALIDATE CONSTRAINT orders_total_small;

-- A table created in the same release.
CREATE TABLE refunds (id bigint PRIMARY KEY, amount numeric NOT NULL);
ALTER TABLE refunds ADD CONSTRAINT refunds_amount_positive CHECK (amount > 0);
