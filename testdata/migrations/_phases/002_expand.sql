-- Everything the old color keeps working with.
-- file-class: expand
SET lock_timeout = '2s'; -- class: none
CREATE TABLE invoices (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id)); -- class: expand
ALTER TABLE customers ADD COLUMN phone text; -- class: expand
ALTER TABLE customers ADD COLUMN vip boolean NOT NULL DEFAULT false; -- class: expand
ALTER TABLE customers ADD COLUMN tier int DEFAULT 1; -- class: expand
ALTER TABLE customers ADD COLUMN ref bigint GENERATED ALWAYS AS IDENTITY; -- class: expand
ALTER TABLE orders ADD COLUMN shipped_at timestamptz; -- class: expand
ALTER TABLE orders ADD COLUMN source text DEFAULT 'web'; -- class: expand
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id); -- class: expand
ALTER TABLE customers ALTER COLUMN name DROP NOT NULL; -- class: expand
ALTER TABLE customers ALTER COLUMN country SET DEFAULT 'DE'; -- class: expand
ALTER TYPE order_status ADD VALUE 'refunded'; -- class: expand
ALTER TABLE customers ALTER COLUMN email TYPE varchar(200); -- class: expand
ALTER TABLE customers ALTER COLUMN nickname TYPE varchar; -- class: expand
ALTER TABLE customers ALTER COLUMN score TYPE numeric(12, 2); -- class: expand
-- Constraints on columns added in this release bind only the new color.
ALTER TABLE customers ADD CONSTRAINT customers_phone_check CHECK (phone <> ''); -- class: expand
ALTER TABLE customers ADD CONSTRAINT customers_tier_check CHECK (tier > 0) NOT VALID; -- class: expand
ALTER TABLE customers ADD CONSTRAINT customers_phone_key UNIQUE (phone); -- class: expand
ALTER TABLE orders ADD CONSTRAINT orders_source_check CHECK (source IS NOT NULL) NOT VALID; -- class: expand
ALTER TABLE orders ADD CONSTRAINT orders_shipped_check CHECK (shipped_at > '2020-01-01'); -- class: expand
ALTER TABLE customers ALTER COLUMN tier SET NOT NULL; -- class: expand
CREATE UNIQUE INDEX CONCURRENTLY customers_ref_idx ON customers (ref); -- class: expand
ALTER TABLE customers ADD COLUMN referrer_id bigint REFERENCES customers (id); -- class: expand
-- Constraints and changes on a table created in this release.
ALTER TABLE invoices ADD COLUMN amount numeric NOT NULL; -- class: expand
ALTER TABLE invoices ADD CONSTRAINT invoices_amount_check CHECK (amount >= 0); -- class: expand
CREATE UNIQUE INDEX invoices_order_id_idx ON invoices (order_id); -- class: expand
ALTER TABLE invoices RENAME COLUMN amount TO total; -- class: none
CREATE VIEW paid_orders AS SELECT * FROM orders WHERE status = 'paid'; -- class: expand
CREATE OR REPLACE FUNCTION order_total(o bigint) RETURNS numeric LANGUAGE sql AS $$ SELECT total FROM orders WHERE id = o $$; -- class: expand
GRANT SELECT ON invoices TO reporting_role; -- class: expand
ALTER TABLE customers DROP CONSTRAINT customers_pkey; -- class: none
ALTER TABLE customers DISABLE ROW LEVEL SECURITY; -- class: expand
VACUUM ANALYZE orders; -- class: none
SELECT 1; -- class: none
