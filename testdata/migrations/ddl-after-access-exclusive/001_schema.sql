CREATE TABLE customers (id bigint PRIMARY KEY, name text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, shipped boolean, total numeric);
CREATE TABLE settings (key text PRIMARY KEY, value text);
