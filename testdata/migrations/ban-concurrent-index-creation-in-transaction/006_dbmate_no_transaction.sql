-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at4_idx ON orders (created_at);

-- migrate:down
DROP INDEX CONCURRENTLY IF EXISTS orders_created_at4_idx;
