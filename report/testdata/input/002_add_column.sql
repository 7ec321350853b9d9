-- Expand: a nullable column, a constraint added without NOT VALID, an index.
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN city text;
ALTER TABLE users ADD CONSTRAINT users_city_check CHECK (city <> '');
SELECT 'café ☕'; CREATE INDEX users_email_idx ON users (email);
