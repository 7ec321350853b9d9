-- A check that is not validated yet proves nothing.
ALTER TABLE orders ADD COLUMN source text;
ALTER TABLE orders ADD CONSTRAINT orders_source_not_null CHECK (source IS NOT NULL) NOT VALID;
ALTER TABLE orders ALTER COLUMN source SET NOT NULL; -- want: adding-not-nullable-field

-- A table created in the same release.
CREATE TABLE refunds (id bigint PRIMARY KEY, reason text);
ALTER TABLE refunds ALTER COLUMN reason SET NOT NULL;
