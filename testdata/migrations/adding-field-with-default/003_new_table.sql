-- A table created in the same release: nobody reads it yet.
CREATE TABLE invoices (id bigint PRIMARY KEY);
ALTER TABLE invoices ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE invoices ADD COLUMN seq bigserial;
