-- One transaction: the lock is held from the first statement already.
BEGIN;
ALTER TABLE orders ADD COLUMN weight int;
ALTER TABLE orders ALTER COLUMN note SET DEFAULT '';
COMMIT;
-- A table of this release takes no lock anyone waits for.
CREATE TABLE coupons (id bigint PRIMARY KEY);
ALTER TABLE coupons ADD COLUMN code text;
ALTER TABLE coupons ADD COLUMN rate numeric;
