CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
CREATE TABLE customers (id bigint PRIMARY KEY);
