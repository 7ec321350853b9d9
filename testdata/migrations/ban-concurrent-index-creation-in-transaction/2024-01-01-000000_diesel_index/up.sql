-- diesel runs each migration in a transaction.
CREATE INDEX CONCURRENTLY orders_note3_idx ON orders (note); -- want: ban-concurrent-index-creation-in-transaction
