ALTER TABLE orders SET UNLOGGED; -- want: table-rewrite
ALTER TABLE orders SET LOGGED; -- want: table-rewrite
ALTER TABLE orders SET TABLESPACE fast_ssd; -- want: table-rewrite
ALTER TABLE audit SET ACCESS METHOD heap2; -- want: table-rewrite
CLUSTER orders USING orders_pkey; -- want: table-rewrite
CLUSTER; -- want: table-rewrite

-- Statements that change neither the rows nor their files.
ALTER TABLE orders SET (fillfactor = 80);
ALTER TABLE orders ALTER COLUMN total SET STATISTICS 500;
ALTER TABLE orders CLUSTER ON orders_pkey;
