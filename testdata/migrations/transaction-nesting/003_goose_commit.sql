-- +goose Up
ALTER TABLE orders ADD COLUMN region text;
COMMIT; -- want: transaction-nesting
ALTER TABLE orders ADD COLUMN channel text;
