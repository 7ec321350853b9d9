ALTER TABLE orders ALTER COLUMN total SET NOT NULL; -- want: tightening-constraint
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID; -- want: tightening-constraint
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email); -- want: tightening-constraint
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID; -- want: tightening-constraint
ALTER TABLE orders ADD CONSTRAINT orders_no_overlap EXCLUDE USING gist (period WITH &&); -- want: tightening-constraint
CREATE UNIQUE INDEX CONCURRENTLY customers_country_email_idx ON customers (country, email); -- want: tightening-constraint
ALTER TABLE customers -- want: tightening-constraint, tightening-constraint
    ALTER COLUMN email SET NOT NULL,
    ALTER COLUMN country SET NOT NULL;

-- Loosening and validating are not tightening.
ALTER TABLE orders DROP CONSTRAINT orders_total_check;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);

-- Columns and tables of this release bind only the new color.
ALTER TABLE orders ADD COLUMN currency text DEFAULT 'EUR';
ALTER TABLE orders ADD CONSTRAINT orders_currency_check CHECK (char_length(currency) = 3);
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
ALTER TABLE orders ADD COLUMN coupon text;
CREATE UNIQUE INDEX CONCURRENTLY orders_coupon_idx ON orders (coupon);
ALTER TABLE orders ADD CONSTRAINT orders_coupon_key UNIQUE (coupon);
CREATE TABLE refunds (id bigint PRIMARY KEY, order_id bigint, amount numeric);
ALTER TABLE refunds ADD CONSTRAINT refunds_order_fk FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE refunds ALTER COLUMN amount SET NOT NULL;
CREATE UNIQUE INDEX refunds_order_idx ON refunds (order_id);
