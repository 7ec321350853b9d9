CREATE TABLE orders (id bigint PRIMARY KEY, status text, total numeric, tags text[]);
