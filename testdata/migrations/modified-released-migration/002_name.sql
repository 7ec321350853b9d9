-- edited after release: the tools skip it where 002 already ran -- want: modified-released-migration
ALTER TABLE users ADD COLUMN name text;
