-- +goose NO TRANSACTION
-- +goose Up
VACUUM FULL orders; -- want: table-rewrite
VACUUM (FULL, ANALYZE) audit; -- want: table-rewrite
VACUUM FULL; -- want: table-rewrite
VACUUM orders;
VACUUM (ANALYZE) audit;
ANALYZE orders;

-- A table created in the same release.
CREATE TABLE refunds (id bigint PRIMARY KEY);
ALTER TABLE refunds SET UNLOGGED;
VACUUM FULL refunds;
CLUSTER refunds USING refunds_pkey;
