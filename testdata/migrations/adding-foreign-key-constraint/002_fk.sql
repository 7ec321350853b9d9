ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id); -- want: adding-foreign-key-constraint
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers; -- want: adding-foreign-key-constraint

-- The safe form: NOT VALID now, VALIDATE later.
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk2 FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;

-- CHECK constraints are constraint-missing-not-valid's.
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0);
