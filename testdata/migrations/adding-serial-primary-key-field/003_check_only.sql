-- On PostgreSQL 12+ a validated CHECK (col IS NOT NULL) lets the implicit SET NOT NULL skip its scan.
ALTER TABLE devices ADD CONSTRAINT devices_user_id_not_null CHECK (user_id IS NOT NULL) NOT VALID;
ALTER TABLE devices VALIDATE CONSTRAINT devices_user_id_not_null;
CREATE UNIQUE INDEX CONCURRENTLY devices_user_id_idx ON devices (user_id);
ALTER TABLE devices ADD CONSTRAINT devices_pkey PRIMARY KEY USING INDEX devices_user_id_idx;

-- A serial column without a primary key is adding-field-with-default's.
ALTER TABLE audit_log ADD COLUMN seq bigserial;
