CREATE SCHEMA billing;
CREATE TABLE invoices (id bigint PRIMARY KEY);
CREATE VIEW open_invoices AS SELECT * FROM invoices;
CREATE FUNCTION invoice_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM invoices $$;
CREATE TYPE invoice_state AS ENUM ('open', 'paid');
CREATE SEQUENCE invoice_numbers;
