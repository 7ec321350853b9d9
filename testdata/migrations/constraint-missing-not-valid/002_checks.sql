ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0); -- want: constraint-missing-not-valid
ALTER TABLE orders ADD CHECK (total < 1000000); -- want: constraint-missing-not-valid
ALTER TABLE orders -- want: constraint-missing-not-valid
    ADD CONSTRAINT a CHECK (total > 1),
    ADD CONSTRAINT b CHECK (total > 2);

-- The safe form: NOT VALID now, VALIDATE later.
ALTER TABLE orders ADD CONSTRAINT orders_total_small CHECK (total < 100000) NOT VALID;

-- Foreign keys and unique constraints are other rules' business.
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);

-- A CHECK written in ADD COLUMN is checked against every row all the same.
ALTER TABLE orders ADD COLUMN discount numeric CHECK (discount >= 0); -- want: constraint-missing-not-valid
ALTER TABLE orders ADD COLUMN tip numeric CONSTRAINT orders_tip_positive CHECK (tip > 0); -- want: constraint-missing-not-valid
