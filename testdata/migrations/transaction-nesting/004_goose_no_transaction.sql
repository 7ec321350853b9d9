-- +goose NO TRANSACTION
-- +goose Up
BEGIN;
ALTER TABLE orders ADD COLUMN source text;
COMMIT;
CREATE INDEX CONCURRENTLY orders_source_idx ON orders (source);
