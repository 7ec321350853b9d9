-- ADD PRIMARY KEY USING INDEX sets the index's columns NOT NULL.
ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx; -- want: adding-not-nullable-field
-- An index the schema does not know: its columns may be nullable.
ALTER TABLE ledgers ADD CONSTRAINT ledgers_pkey PRIMARY KEY USING INDEX ledgers_id_idx; -- want: adding-not-nullable-field
