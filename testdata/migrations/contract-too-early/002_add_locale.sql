SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN locale text;
ALTER TABLE users ADD COLUMN tz text DEFAULT 'UTC';
