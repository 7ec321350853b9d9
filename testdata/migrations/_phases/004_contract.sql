-- Removing or tightening what the old color uses: only after retirement.
-- file-class: contract
ALTER TABLE customers DROP COLUMN nickname; -- class: contract
DROP TABLE old_stuff; -- class: contract
DROP VIEW customer_emails; -- class: contract
DROP MATERIALIZED VIEW order_totals; -- class: contract
DROP FUNCTION order_count(bigint); -- class: contract
DROP PROCEDURE purge_audit(); -- class: contract
DROP SCHEMA legacy; -- class: contract
DROP INDEX CONCURRENTLY orders_note_idx; -- class: none
ALTER TABLE customers ALTER COLUMN country DROP DEFAULT; -- class: contract
ALTER TABLE orders ALTER COLUMN total SET NOT NULL; -- class: contract
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID; -- class: contract
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email); -- class: contract
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID; -- class: contract
CREATE UNIQUE INDEX CONCURRENTLY customers_email_idx ON customers (email); -- class: contract
ALTER TABLE orders ADD CONSTRAINT orders_note_excl EXCLUDE USING gist (note WITH =); -- class: contract
REVOKE UPDATE ON customers FROM app_role; -- class: contract
ALTER TABLE customers ENABLE ROW LEVEL SECURITY; -- class: contract
ALTER TABLE customers FORCE ROW LEVEL SECURITY; -- class: contract
CREATE POLICY customers_tenant ON customers USING (country = current_setting('app.country')); -- class: contract
ALTER POLICY customers_tenant ON customers USING (true); -- class: contract
TRUNCATE audit_log; -- class: contract
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check; -- class: none
