-- +goose Up
-- goose runs the file in one transaction: the VALIDATE keeps ACCESS EXCLUSIVE.
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive; -- want: validate-in-same-transaction

-- +goose Down
ALTER TABLE orders DROP CONSTRAINT orders_total_positive;
