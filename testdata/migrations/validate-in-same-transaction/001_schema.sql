CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    total numeric(10,2) NOT NULL
);
