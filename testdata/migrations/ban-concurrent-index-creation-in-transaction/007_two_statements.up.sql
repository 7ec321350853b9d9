-- golang-migrate sends the file as one query: with two statements it is one transaction.
ALTER TABLE orders ADD COLUMN note text;
CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note); -- want: ban-concurrent-index-creation-in-transaction
