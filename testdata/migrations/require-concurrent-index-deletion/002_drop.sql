DROP INDEX orders_customer_id_idx; -- want: require-concurrent-index-deletion

DROP INDEX IF EXISTS -- want: require-concurrent-index-deletion
    orders_status_idx;

-- The safe form.
DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;

-- An index the catalog has never seen is taken to exist.
DROP INDEX IF EXISTS legacy_idx; -- want: require-concurrent-index-deletion

-- Several indexes in one statement: reported once.
DROP INDEX orders_status_created_idx, legacy2_idx; -- want: require-concurrent-index-deletion

-- An index created in this file (this release) on an existing table is new: nobody uses it.
CREATE INDEX CONCURRENTLY orders_tmp_idx ON orders (status);
DROP INDEX orders_tmp_idx;

-- Inside a DO block the nested statement is checked too.
DO $$
BEGIN
    DROP INDEX IF EXISTS legacy3_idx; -- want: require-concurrent-index-deletion
END
$$;
