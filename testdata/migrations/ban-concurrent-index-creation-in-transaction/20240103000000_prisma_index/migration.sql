-- prisma sends the file as one query: two statements make one transaction.
ALTER TABLE orders ADD COLUMN tag text;
CREATE INDEX CONCURRENTLY orders_tag_idx ON orders (tag); -- want: ban-concurrent-index-creation-in-transaction
