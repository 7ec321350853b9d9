BEGIN; -- want: ban-uncommitted-transaction
ALTER TABLE orders ADD COLUMN f text;
