CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE audit (id bigint PRIMARY KEY);
CREATE VIEW customer_ids AS SELECT id FROM customers;
CREATE MATERIALIZED VIEW customer_count AS SELECT count(*) FROM customers;
CREATE TABLE ledger (id bigint PRIMARY KEY);
CREATE TABLE notes (id bigint PRIMARY KEY);
