-- +goose Up
ALTER TABLE orders ADD COLUMN status text;
UPDATE orders SET status = 'done' WHERE shipped; -- want: ddl-after-access-exclusive
-- Reported once per transaction.
UPDATE orders SET status = 'open' WHERE NOT shipped;

-- +goose Down
ALTER TABLE orders DROP COLUMN status;
