ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email); -- want: disallowed-unique-constraint
ALTER TABLE users ADD UNIQUE (handle); -- want: disallowed-unique-constraint
ALTER TABLE users ADD COLUMN external_id text UNIQUE; -- want: disallowed-unique-constraint

-- Reported once per statement.
ALTER TABLE users -- want: disallowed-unique-constraint
    ADD CONSTRAINT users_email_handle_key UNIQUE (email, handle),
    ADD CONSTRAINT users_handle_email_key UNIQUE (handle, email);

-- The safe recipe.
CREATE UNIQUE INDEX CONCURRENTLY users_handle_key ON users (handle);
ALTER TABLE users ADD CONSTRAINT users_handle_key UNIQUE USING INDEX users_handle_key;

-- Primary keys are adding-serial-primary-key-field's, also beside a UNIQUE constraint.
ALTER TABLE legacy_users ADD PRIMARY KEY (email);
ALTER TABLE legacy_accounts ADD COLUMN id bigserial PRIMARY KEY, ADD CONSTRAINT legacy_accounts_handle_key UNIQUE (handle);
