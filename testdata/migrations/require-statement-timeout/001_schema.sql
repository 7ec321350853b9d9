CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer, total numeric);
