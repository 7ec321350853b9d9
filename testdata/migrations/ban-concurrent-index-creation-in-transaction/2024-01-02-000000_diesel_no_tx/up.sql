-- run_in_transaction = false in metadata.toml.
CREATE INDEX CONCURRENTLY orders_note4_idx ON orders (note);
