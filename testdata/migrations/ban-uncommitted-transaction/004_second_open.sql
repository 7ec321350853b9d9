BEGIN;
ALTER TABLE orders ADD COLUMN c text;
COMMIT;
BEGIN; -- want: ban-uncommitted-transaction
ALTER TABLE orders ADD COLUMN d text;
