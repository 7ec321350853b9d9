-- migrate:up
DROP INDEX CONCURRENTLY IF EXISTS orders_created_at3_idx; -- want: ban-concurrent-index-creation-in-transaction

-- migrate:down
