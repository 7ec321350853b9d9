CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    total numeric(10,2) NOT NULL
);
CREATE TABLE events (name text NOT NULL);
