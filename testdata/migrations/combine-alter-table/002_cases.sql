-- A plain file runs each statement on its own.
ALTER TABLE orders ADD COLUMN total numeric;
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new'; -- want: combine-alter-table
ALTER TABLE items ADD COLUMN name text;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;
CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);
