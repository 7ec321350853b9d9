CREATE TABLE orders (id bigint PRIMARY KEY); -- want: require-table-schema
CREATE TABLE public.invoices (id bigint PRIMARY KEY);
CREATE TABLE IF NOT EXISTS -- want: require-table-schema
    items (id bigint); -- (a finding starts where its statement starts)
CREATE TEMPORARY TABLE scratch (id bigint);
CREATE TABLE report AS SELECT 1 AS n; -- want: require-table-schema
CREATE TABLE app.report AS SELECT 1 AS n;
ALTER TABLE orders ADD COLUMN note text; -- want: require-table-schema
ALTER TABLE public.orders ADD COLUMN note2 text;
ALTER TABLE orders RENAME COLUMN note TO remark; -- want: require-table-schema
ALTER TABLE public.orders RENAME COLUMN note2 TO remark2;
ALTER TABLE orders RENAME TO orders_v2; -- want: require-table-schema
ALTER TABLE orders_v2 SET SCHEMA app; -- want: require-table-schema
DROP TABLE items; -- want: require-table-schema
DROP TABLE public.invoices, report; -- want: require-table-schema
DROP TABLE app.report;
-- Other objects are not tables.
CREATE INDEX orders_idx ON public.orders_v2 (id);
CREATE VIEW v AS SELECT 1;
ALTER INDEX orders_idx RENAME TO orders_id_idx;
DO $$
BEGIN
    ALTER TABLE app.orders_v2 ADD COLUMN a text;
    ALTER TABLE orders_v2 ADD COLUMN b text; -- want: require-table-schema
END
$$;
