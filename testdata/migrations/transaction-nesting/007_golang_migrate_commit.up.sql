ALTER TABLE orders ADD COLUMN f text;
COMMIT; -- want: transaction-nesting
ALTER TABLE orders ADD COLUMN g text;
