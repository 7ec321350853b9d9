-- Partial and expression indexes lock the same way.
CREATE INDEX IF NOT EXISTS orders_recent_idx ON orders (created_at) WHERE created_at > '2024-01-01'; -- want: require-concurrent-index-creation
CREATE INDEX orders_day_idx ON orders ((created_at::date)); -- want: require-concurrent-index-creation

-- Inside a DO block the nested statement is checked too.
DO $$
BEGIN
    CREATE INDEX orders_customer_id3_idx ON orders (customer_id); -- want: require-concurrent-index-creation
END
$$;

-- A table created earlier in this file: nobody uses it yet.
CREATE TABLE invoices (id bigint PRIMARY KEY, order_id bigint NOT NULL);
CREATE INDEX invoices_order_id_idx ON invoices (order_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_id_customer_idx ON orders (id, customer_id);
