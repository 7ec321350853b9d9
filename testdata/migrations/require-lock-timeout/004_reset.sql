SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN channel text;
RESET lock_timeout;
ALTER TABLE orders ADD COLUMN source text; -- want: require-lock-timeout
