CREATE INDEX orders_customer_id_idx ON orders (customer_id); -- want: require-concurrent-index-creation

CREATE UNIQUE INDEX -- want: require-concurrent-index-creation
    orders_customer_created_idx ON orders (customer_id, created_at); -- (the finding starts on the line above)

CREATE INDEX CONCURRENTLY orders_customer_id2_idx ON orders (customer_id);
