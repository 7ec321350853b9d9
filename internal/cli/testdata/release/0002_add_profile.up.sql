SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN bio text;
ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX CONCURRENTLY users_created_at_idx ON users (created_at);
