-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY items_name_idx ON app.items (name); -- want: prefer-robust-stmts
CREATE INDEX CONCURRENTLY IF NOT EXISTS items_price_idx ON app.items (price);
DROP INDEX CONCURRENTLY IF EXISTS items_old_idx;
DROP INDEX CONCURRENTLY items_older_idx; -- want: prefer-robust-stmts
