-- +goose Up
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN c text;
ALTER TABLE customers ADD COLUMN d text;
