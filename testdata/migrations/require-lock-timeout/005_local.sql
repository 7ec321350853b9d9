-- SET LOCAL ends with its transaction.
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN a text;
COMMIT;
ALTER TABLE orders ADD COLUMN b text; -- want: require-lock-timeout
