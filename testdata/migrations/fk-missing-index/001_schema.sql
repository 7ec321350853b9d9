CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE products (id bigint PRIMARY KEY);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id), -- want: fk-missing-index
    note text
);
-- Indexed by a later statement of the same file: fine.
CREATE TABLE order_lines (
    id bigint PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    product_id bigint NOT NULL,
    CONSTRAINT order_lines_product_fk FOREIGN KEY (product_id) REFERENCES products (id) -- want: fk-missing-index
);
CREATE INDEX order_lines_order_id_idx ON order_lines (order_id);
-- The primary key leads with the foreign key's column: fine.
CREATE TABLE order_tags (
    order_id bigint NOT NULL REFERENCES orders (id),
    tag text NOT NULL,
    PRIMARY KEY (order_id, tag)
);
-- A unique column is indexed: fine.
CREATE TABLE profiles (customer_id bigint UNIQUE REFERENCES customers (id), bio text);
-- Two unindexed foreign keys in one statement: reported once.
CREATE TABLE favourites (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id), -- want: fk-missing-index
    product_id bigint NOT NULL REFERENCES products (id)
);
-- A composite foreign key covered by an index with its columns in another order: fine.
CREATE TABLE shipments (id bigint PRIMARY KEY, order_id bigint NOT NULL, customer_id bigint NOT NULL);
CREATE UNIQUE INDEX orders_id_customer_key ON orders (id, customer_id);
CREATE TABLE shipment_items (
    shipment_id bigint NOT NULL,
    order_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    FOREIGN KEY (order_id, customer_id) REFERENCES orders (id, customer_id)
);
CREATE INDEX shipment_items_customer_order_idx ON shipment_items (customer_id, order_id);
-- An index whose leading column is another one does not help.
CREATE TABLE returns (
    id bigint PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) -- want: fk-missing-index
);
CREATE INDEX returns_id_order_idx ON returns (id, order_id);
