-- +goose Up
-- goose commits its own transaction; the BEGIN is transaction-nesting's.
BEGIN;
ALTER TABLE orders ADD COLUMN e text;

-- +goose Down
ALTER TABLE orders DROP COLUMN e;
