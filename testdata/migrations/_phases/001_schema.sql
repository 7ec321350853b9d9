-- The deployed schema: every later file sees these objects as known to the
-- running (old) color.
-- file-class: expand
CREATE SCHEMA reporting; -- class: expand
CREATE SCHEMA legacy; -- class: expand
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped'); -- class: expand
CREATE TABLE customers ( -- class: expand
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email varchar(100),
    name varchar(50) NOT NULL,
    nickname text,
    country text DEFAULT 'FR',
    score numeric(8, 2),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders ( -- class: expand
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    status order_status NOT NULL DEFAULT 'pending',
    total numeric(10, 2),
    note text
);
CREATE TABLE audit_log (id bigint PRIMARY KEY, payload text); -- class: expand
CREATE TABLE old_stuff (id bigint PRIMARY KEY); -- class: expand
CREATE TABLE moved (id bigint PRIMARY KEY); -- class: expand
CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note); -- class: expand
CREATE VIEW customer_emails AS SELECT id, email FROM customers; -- class: expand
CREATE VIEW customer_names AS SELECT id, name FROM customers; -- class: expand
CREATE VIEW customer_countries AS SELECT id, country FROM customers; -- class: expand
CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(total) AS total FROM orders GROUP BY customer_id; -- class: expand
CREATE FUNCTION order_count(c bigint) RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM orders WHERE customer_id = c $$; -- class: expand
CREATE PROCEDURE purge_audit() LANGUAGE sql AS $$ DELETE FROM audit_log $$; -- class: expand
CREATE SEQUENCE invoice_numbers; -- class: expand
GRANT SELECT ON customers TO reporting_role; -- class: expand
