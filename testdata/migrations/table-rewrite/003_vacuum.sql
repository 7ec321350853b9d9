-- +goose NO TRANSACTION
-- +goose Up
VACUUM FULL orders; -- want: table-rewrite
VACUUM (FULL, ANALYZE) audit; -- want: table-rewrite
VACUUM FULL; -- want: table-rewrite
VACUUM orders;
VACUUM (ANALYZE) audit;
VACUUM (FULL false) orders;
VACUUM (FULL 0, ANALYZE) audit;
VACUUM (FULL on) orders; -- want: table-rewrite
ANALYZE orders;

-- A table created in the same release.
CREATE TABLE refunds (id bigint PRIMARY KEY);
ALTER TABLE refunds SET UNLOGGED;
VACUUM FULL refunds;
CLUSTER refunds USING refunds_pkey;
