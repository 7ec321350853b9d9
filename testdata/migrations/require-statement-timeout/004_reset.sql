SET statement_timeout = '1min';
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0);
SET statement_timeout = 0;
ALTER TABLE orders ALTER COLUMN note SET NOT NULL; -- want: require-statement-timeout
