CREATE TABLE orders (id bigint PRIMARY KEY, total numeric NOT NULL);
CREATE TABLE audit (id bigint PRIMARY KEY, payload jsonb);
