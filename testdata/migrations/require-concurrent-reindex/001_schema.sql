CREATE SCHEMA billing;
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
-- Tables created in the same file: nobody uses them yet.
CREATE TABLE scratch (id bigint PRIMARY KEY, note text);
CREATE INDEX scratch_note_idx ON scratch (note);
REINDEX INDEX scratch_note_idx;
REINDEX TABLE scratch;
