ALTER TABLE shipments ADD CONSTRAINT shipments_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID; -- want: fk-missing-index
ALTER TABLE shipments ADD COLUMN product_id bigint REFERENCES products (id); -- want: fk-missing-index

-- The recipe: the index first, then the foreign key.
CREATE INDEX CONCURRENTLY shipments_customer_id_idx ON shipments (customer_id);
ALTER TABLE shipments ADD CONSTRAINT shipments_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;

-- A foreign key dropped again before the end of the file.
ALTER TABLE orders ADD COLUMN product_id bigint;
ALTER TABLE orders ADD CONSTRAINT orders_product_fk FOREIGN KEY (product_id) REFERENCES products (id) NOT VALID;
ALTER TABLE orders DROP CONSTRAINT orders_product_fk;

-- A table the migrations never created: its indexes are unknown.
ALTER TABLE legacy_orders ADD CONSTRAINT legacy_orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
