BEGIN;
ALTER TABLE orders ADD COLUMN a text;
BEGIN; -- want: transaction-nesting
ALTER TABLE orders ADD COLUMN b text;
COMMIT;
ALTER TABLE orders ADD COLUMN c text;
COMMIT; -- want: transaction-nesting

BEGIN;
ALTER TABLE orders ADD COLUMN d text;
ROLLBACK;
ROLLBACK; -- want: transaction-nesting
