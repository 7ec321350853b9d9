ALTER TABLE invoices SET SCHEMA billing; -- want: ban-set-schema
ALTER VIEW open_invoices SET SCHEMA billing; -- want: ban-set-schema
ALTER FUNCTION invoice_count() SET SCHEMA billing; -- want: ban-set-schema
ALTER TYPE invoice_state SET SCHEMA billing; -- want: ban-set-schema
ALTER SEQUENCE invoice_numbers SET SCHEMA billing; -- want: ban-set-schema

-- Objects of this release are unknown to the running color.
CREATE TABLE payments (id bigint PRIMARY KEY);
ALTER TABLE payments SET SCHEMA billing;
CREATE VIEW v_payments AS SELECT * FROM billing.payments;
ALTER VIEW v_payments SET SCHEMA billing;
CREATE FUNCTION payment_count() RETURNS bigint LANGUAGE sql AS $$ SELECT 1::bigint $$;
ALTER FUNCTION payment_count() SET SCHEMA billing;
