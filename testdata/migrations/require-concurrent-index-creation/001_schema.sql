CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- A table created in the same file: nobody uses it yet, no CONCURRENTLY needed.
CREATE INDEX orders_created_at_idx ON orders (created_at);
