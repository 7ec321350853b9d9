SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN region text;
ALTER TABLE customers ADD COLUMN email text;
