-- Statements that break the old color the moment they run.
-- file-class: breaking
ALTER TABLE customers RENAME COLUMN email TO email_address; -- class: breaking
ALTER TABLE audit_log RENAME TO audit_events; -- class: breaking
ALTER VIEW paid_orders RENAME TO settled_orders; -- class: breaking
ALTER TYPE order_status RENAME VALUE 'shipped' TO 'sent'; -- class: breaking
ALTER TABLE moved SET SCHEMA reporting; -- class: breaking
ALTER TABLE orders ALTER COLUMN total TYPE bigint; -- class: breaking
ALTER TABLE customers ALTER COLUMN name TYPE varchar(20); -- class: breaking
ALTER TABLE orders ADD COLUMN region text NOT NULL; -- class: breaking
ALTER TABLE orders ADD COLUMN channel text NOT NULL DEFAULT NULL; -- class: breaking
ALTER TABLE orders ADD COLUMN weight int; -- class: expand
ALTER TABLE orders ADD COLUMN coupon text; -- class: expand
-- A column of this release without a default made required: the old color's
-- inserts, which do not set it, fail.
ALTER TABLE orders ADD CONSTRAINT orders_coupon_check CHECK (coupon IS NOT NULL) NOT VALID; -- class: breaking
-- The check above already rejects its NULLs: SET NOT NULL adds nothing.
ALTER TABLE orders ALTER COLUMN coupon SET NOT NULL; -- class: none
ALTER SCHEMA reporting RENAME TO analytics; -- class: breaking
ALTER FUNCTION order_total(bigint) SET SCHEMA legacy_api; -- class: breaking
ALTER TABLE orders ADD COLUMN batch int NOT NULL DEFAULT 0; -- class: expand
ALTER TABLE orders ALTER COLUMN batch DROP DEFAULT; -- class: breaking
DROP DATABASE scratch; -- class: breaking
