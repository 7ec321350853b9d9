ALTER TABLE users RENAME COLUMN name TO display_name;
CREATE INDEX users_bio_idx ON users (bio);
