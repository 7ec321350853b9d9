CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX orders_status_idx ON orders (status);
CREATE INDEX orders_created_at_idx ON orders (created_at);
CREATE INDEX orders_status_created_idx ON orders (status, created_at);
-- Dropping an index of a table created in the same file: nobody waits on it.
CREATE TABLE scratch (id bigint PRIMARY KEY, note text);
CREATE INDEX scratch_note_idx ON scratch (note);
DROP INDEX scratch_note_idx;
