ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk2;

-- Tables created in the same release: their rows are the migration's own.
CREATE TABLE shipments (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id));
CREATE TABLE parcels (id bigint PRIMARY KEY, shipment_id bigint NOT NULL);
ALTER TABLE parcels ADD CONSTRAINT parcels_shipment_fk FOREIGN KEY (shipment_id) REFERENCES shipments (id);
ALTER TABLE parcels ADD CONSTRAINT parcels_order_fk FOREIGN KEY (shipment_id) REFERENCES orders (id);
