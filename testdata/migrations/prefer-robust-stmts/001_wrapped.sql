-- +goose Up
-- goose wraps the file in a transaction: a failure undoes all of it.
CREATE TABLE app.orders (id bigint PRIMARY KEY, status text);
CREATE INDEX orders_status_idx ON app.orders (status);
ALTER TABLE app.orders ADD COLUMN note text;
DROP TABLE app.legacy;

-- +goose Down
DROP TABLE app.orders;
