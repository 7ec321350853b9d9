-- golang-migrate: a single statement runs outside a transaction block.
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note2_idx ON orders (note);
