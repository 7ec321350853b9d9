SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN locale text;
ALTER TABLE users ADD COLUMN tz text DEFAULT 'UTC';
ALTER TABLE users ADD COLUMN country text;
ALTER TABLE users ADD COLUMN region text NOT NULL DEFAULT 'eu';
ALTER TABLE users ADD COLUMN serial_no bigint;
ALTER TABLE users ADD COLUMN handle text;
ALTER TABLE users ADD COLUMN bio text;
