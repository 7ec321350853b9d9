ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id); -- want: adding-foreign-key-constraint
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers; -- want: adding-foreign-key-constraint

-- The safe form: NOT VALID now, VALIDATE later.
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk2 FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;

-- CHECK constraints are constraint-missing-not-valid's.
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0);

-- REFERENCES in ADD COLUMN: without a default every row is NULL and
-- PostgreSQL skips the check; with one it checks every row.
ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES customers (id);
ALTER TABLE orders ADD COLUMN payer_id bigint DEFAULT 1 REFERENCES customers (id); -- want: adding-foreign-key-constraint
