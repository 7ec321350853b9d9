-- SET LOCAL outside a transaction block has no effect.
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN e text; -- want: require-lock-timeout
