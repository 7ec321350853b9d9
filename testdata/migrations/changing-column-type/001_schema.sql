CREATE TABLE orders (
    id integer PRIMARY KEY,
    customer_id integer NOT NULL,
    code varchar(20),
    label varchar(50),
    name varchar(100),
    total numeric(10,2),
    amount numeric(10,2),
    placed_at timestamp(3),
    ip cidr,
    flag text
);
