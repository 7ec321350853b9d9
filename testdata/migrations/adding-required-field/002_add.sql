ALTER TABLE orders ADD COLUMN region text NOT NULL; -- want: adding-required-field
ALTER TABLE orders ADD COLUMN channel text NOT NULL DEFAULT NULL; -- want: adding-required-field
ALTER TABLE orders ADD COLUMN code int PRIMARY KEY; -- want: adding-required-field

-- Safe forms: nullable, with a default, or filled by PostgreSQL.
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';
ALTER TABLE orders ADD COLUMN ref bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE orders ADD COLUMN seq bigserial NOT NULL;
ALTER TABLE orders ADD COLUMN total_cents bigint NOT NULL GENERATED ALWAYS AS ((total * 100)::bigint) STORED;
-- A table of this release has no running writer.
CREATE TABLE refunds (id bigint PRIMARY KEY);
ALTER TABLE refunds ADD COLUMN reason text NOT NULL;
