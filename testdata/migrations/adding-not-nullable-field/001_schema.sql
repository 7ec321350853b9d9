CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint,
    region text,
    note text,
    channel text
);
