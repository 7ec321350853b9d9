REINDEX INDEX orders_customer_id_idx; -- want: require-concurrent-reindex
REINDEX (VERBOSE) TABLE orders; -- want: require-concurrent-reindex
REINDEX SCHEMA billing; -- want: require-concurrent-reindex
REINDEX DATABASE shop; -- want: require-concurrent-reindex

-- The safe forms.
REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
REINDEX (CONCURRENTLY) TABLE orders;
REINDEX TABLE CONCURRENTLY orders;

-- An option set to false is the option left out.
REINDEX (CONCURRENTLY false) TABLE orders; -- want: require-concurrent-reindex
REINDEX (CONCURRENTLY off) INDEX orders_customer_id_idx; -- want: require-concurrent-reindex
REINDEX (CONCURRENTLY true) TABLE orders;

-- System catalogs cannot be reindexed concurrently.
REINDEX SYSTEM shop;

-- An index built in this release is new: nobody's queries wait on it.
CREATE INDEX CONCURRENTLY orders_id_customer_idx ON orders (id, customer_id);
REINDEX INDEX orders_id_customer_idx;

-- A schema created in this release.
CREATE SCHEMA reporting;
REINDEX SCHEMA reporting;
