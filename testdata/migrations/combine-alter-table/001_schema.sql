CREATE TABLE orders (id bigint PRIMARY KEY, status text, note text);
CREATE TABLE items (id bigint PRIMARY KEY);
