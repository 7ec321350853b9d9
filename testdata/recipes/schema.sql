-- The deployed schema the recipes of docs/rules.md run on (rules/recipes_test.go).
CREATE SCHEMA app;
CREATE SCHEMA billing;
CREATE SCHEMA reporting_v1;
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id integer,
    total numeric(10,2),
    status text,
    shipped boolean NOT NULL DEFAULT false,
    note text,
    currency text DEFAULT 'EUR',
    created_at timestamptz NOT NULL DEFAULT now(),
    shipping_country_code text
);
CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text,
    phone text NOT NULL,
    legacy_flag boolean,
    active boolean NOT NULL DEFAULT true,
    last_seen timestamptz
);
CREATE TABLE events (name text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE measurements (taken_at timestamptz NOT NULL, value numeric) PARTITION BY RANGE (taken_at);
CREATE TABLE measurements_2023 PARTITION OF measurements FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE invoices (id bigint PRIMARY KEY, total numeric);
CREATE TABLE bookings (id bigint PRIMARY KEY, room_id bigint NOT NULL, during tstzrange NOT NULL);
CREATE TABLE countries (code text PRIMARY KEY);
CREATE TABLE staging_countries (code text);
CREATE TABLE staging_addresses (id bigint, country_code text);
CREATE TABLE documents (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, body text);
CREATE TABLE legacy_sessions (id bigint PRIMARY KEY);
CREATE TABLE app.products (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TYPE shipment_status AS ENUM ('pending', 'shipped');
CREATE TABLE shipments (id bigint PRIMARY KEY, status shipment_status NOT NULL);
CREATE VIEW active_users AS SELECT id, email FROM users WHERE active;
CREATE FUNCTION order_total(bigint) RETURNS numeric LANGUAGE sql AS $$ SELECT total FROM orders WHERE id = $1 $$;
