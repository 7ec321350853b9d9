CREATE TABLE customers (id bigint PRIMARY KEY, email text, country text);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint,
    total numeric,
    period tstzrange,
    -- Constraints in CREATE TABLE bind a table nobody uses yet.
    CONSTRAINT orders_total_check CHECK (total >= 0)
);
