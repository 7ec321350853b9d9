SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders ALTER COLUMN note TYPE varchar(500);
CREATE INDEX orders_note_idx ON orders (note);
