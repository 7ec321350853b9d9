ALTER TABLE events ADD COLUMN id bigserial PRIMARY KEY; -- want: adding-serial-primary-key-field
ALTER TABLE clicks ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY; -- want: adding-serial-primary-key-field
ALTER TABLE pings ADD COLUMN id uuid DEFAULT gen_random_uuid() PRIMARY KEY; -- want: adding-serial-primary-key-field
ALTER TABLE audit_log ADD PRIMARY KEY (entry); -- want: adding-serial-primary-key-field

-- A serial column and the primary key in separate sub-commands: one finding.
ALTER TABLE taps -- want: adding-serial-primary-key-field
    ADD COLUMN id serial,
    ADD CONSTRAINT taps_pkey PRIMARY KEY (id),
    ADD CONSTRAINT taps_code_key UNIQUE (code);

-- The safe recipe: NOT NULL proven by a validated check, index built concurrently.
ALTER TABLE visits ADD CONSTRAINT visits_visitor_id_not_null CHECK (visitor_id IS NOT NULL) NOT VALID;
ALTER TABLE visits VALIDATE CONSTRAINT visits_visitor_id_not_null;
ALTER TABLE visits ALTER COLUMN visitor_id SET NOT NULL;
CREATE UNIQUE INDEX CONCURRENTLY visits_pkey ON visits (visitor_id, at);
ALTER TABLE visits ADD CONSTRAINT visits_pkey PRIMARY KEY USING INDEX visits_pkey;

-- USING INDEX on a column still nullable: PostgreSQL sets NOT NULL, scanning the table.
CREATE UNIQUE INDEX CONCURRENTLY sessions_token_idx ON sessions (token);
ALTER TABLE sessions ADD CONSTRAINT sessions_pkey PRIMARY KEY USING INDEX sessions_token_idx; -- want: adding-serial-primary-key-field
