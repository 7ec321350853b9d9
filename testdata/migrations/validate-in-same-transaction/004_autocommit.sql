-- Plain file without BEGIN: each statement commits on its own.
ALTER TABLE orders ADD CONSTRAINT orders_total_cap CHECK (total < 900000) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_cap;

-- A DO block is one transaction.
DO $$
BEGIN
    ALTER TABLE orders ADD CONSTRAINT orders_total_cap2 CHECK (total < 800000) NOT VALID;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_total_cap2; -- want: validate-in-same-transaction
END
$$;

-- A table created in the same release.
BEGIN;
CREATE TABLE refunds (id bigint PRIMARY KEY, amount numeric NOT NULL);
ALTER TABLE refunds ADD CONSTRAINT refunds_amount_positive CHECK (amount > 0) NOT VALID;
ALTER TABLE refunds VALIDATE CONSTRAINT refunds_amount_positive;
COMMIT;
