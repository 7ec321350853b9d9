SET lock_timeout = '2s';
-- An earlier release listed it as no longer used.
ALTER TABLE users DROP COLUMN legacy_flag;
ALTER TABLE users DROP COLUMN old_notes; -- want: contract-without-expand
DROP TABLE audit_old;
-- The NOT VALID check came in an earlier release.
ALTER TABLE users VALIDATE CONSTRAINT users_name_nn;
ALTER TABLE users ALTER COLUMN name SET NOT NULL;
ALTER TABLE users ALTER COLUMN email SET NOT NULL; -- want: contract-without-expand
