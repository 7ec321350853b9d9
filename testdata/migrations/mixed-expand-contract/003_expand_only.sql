ALTER TABLE users ADD COLUMN locale text;
CREATE TABLE invoices (id bigint PRIMARY KEY, order_id bigint);
