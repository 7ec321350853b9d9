CREATE TABLE drafts (id bigint PRIMARY KEY, body text, tmp text);
ALTER TABLE drafts DROP COLUMN tmp;
