-- +goose Up
BEGIN; -- want: transaction-nesting
ALTER TABLE orders ADD COLUMN note text;
COMMIT;

-- +goose Down
ALTER TABLE orders DROP COLUMN note;
