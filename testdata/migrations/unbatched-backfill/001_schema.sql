CREATE TABLE orders (id bigint PRIMARY KEY, shipped boolean, status text);
CREATE TABLE sessions (id bigint PRIMARY KEY, expired boolean);
