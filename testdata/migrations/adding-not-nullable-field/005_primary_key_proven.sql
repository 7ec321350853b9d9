-- Columns already NOT NULL, or proven so, are not scanned.
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_pkey;
ALTER TABLE accounts ADD CONSTRAINT accounts_ref_pkey PRIMARY KEY USING INDEX accounts_ref_idx;
ALTER TABLE accounts ADD CONSTRAINT accounts_code_not_null CHECK (code IS NOT NULL) NOT VALID;
ALTER TABLE accounts ADD CONSTRAINT accounts_tag_not_null CHECK (tag IS NOT NULL) NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_code_not_null;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_tag_not_null;
ALTER TABLE accounts DROP CONSTRAINT accounts_ref_pkey;
ALTER TABLE accounts ADD CONSTRAINT accounts_code_tag_pkey PRIMARY KEY USING INDEX accounts_code_tag_idx;
-- SET NOT NULL on a column that is NOT NULL already does nothing.
ALTER TABLE accounts ALTER COLUMN ref SET NOT NULL;
