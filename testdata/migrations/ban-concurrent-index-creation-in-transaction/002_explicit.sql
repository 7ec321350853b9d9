-- A plain file runs in autocommit mode: CONCURRENTLY is fine outside BEGIN … COMMIT.
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);

BEGIN;
CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at); -- want: ban-concurrent-index-creation-in-transaction
DROP INDEX CONCURRENTLY orders_status_idx; -- want: ban-concurrent-index-creation-in-transaction
REINDEX INDEX CONCURRENTLY orders_customer_id_idx; -- want: ban-concurrent-index-creation-in-transaction
ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY; -- want: ban-concurrent-index-creation-in-transaction
-- PostgreSQL rejects it on a new table too.
CREATE TABLE refunds (id bigint PRIMARY KEY, order_id bigint NOT NULL);
CREATE INDEX CONCURRENTLY refunds_order_id_idx ON refunds (order_id); -- want: ban-concurrent-index-creation-in-transaction
-- The non-concurrent forms are other rules' business.
CREATE INDEX orders_status2_idx ON orders (status);
COMMIT;

-- After COMMIT: autocommit again.
REINDEX TABLE CONCURRENTLY orders;
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;

-- A DO block runs as one statement: its body cannot use CONCURRENTLY (reported once).
DO $$
BEGIN
    CREATE INDEX CONCURRENTLY orders_status3_idx ON orders (status); -- want: ban-concurrent-index-creation-in-transaction
    CREATE INDEX CONCURRENTLY orders_status4_idx ON orders (status);
END
$$;

-- Nor can a function the migration calls: reported at the call.
CREATE FUNCTION add_index() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CREATE INDEX CONCURRENTLY orders_status5_idx ON orders (status);
END
$$;
SELECT add_index(); -- want: ban-concurrent-index-creation-in-transaction
