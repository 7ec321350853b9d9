-- +goose Up
-- goose wraps the file in a transaction.
CREATE INDEX CONCURRENTLY orders_created_at2_idx ON orders (created_at); -- want: ban-concurrent-index-creation-in-transaction

-- +goose Down
DROP INDEX orders_created_at2_idx;
