BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk; -- want: validate-in-same-transaction
COMMIT;

-- Separate transactions: the safe recipe.
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_total_small CHECK (total < 100000) NOT VALID;
COMMIT;
BEGIN;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_small;
COMMIT;

-- Any ACCESS EXCLUSIVE lock on the table earlier in the transaction is kept.
ALTER TABLE orders ADD CONSTRAINT orders_total_max CHECK (total < 500000) NOT VALID;
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_max; -- want: validate-in-same-transaction
COMMIT;

-- A lock on another table does not matter to this rule.
ALTER TABLE orders ADD CONSTRAINT orders_total_min CHECK (total > -1) NOT VALID;
BEGIN;
ALTER TABLE customers ADD COLUMN name text;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_min;
COMMIT;
