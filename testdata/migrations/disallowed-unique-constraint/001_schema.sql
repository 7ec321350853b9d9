CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    handle text NOT NULL
);
CREATE TABLE legacy_users (email text NOT NULL, handle text);
CREATE TABLE legacy_accounts (email text NOT NULL, handle text);
-- A table created in the same file: nobody uses it yet.
CREATE TABLE teams (id bigint PRIMARY KEY, slug text NOT NULL);
ALTER TABLE teams ADD CONSTRAINT teams_slug_key UNIQUE (slug);
ALTER TABLE teams ADD COLUMN code text UNIQUE;
