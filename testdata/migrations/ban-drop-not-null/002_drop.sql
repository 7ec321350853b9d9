ALTER TABLE users ALTER COLUMN phone DROP NOT NULL; -- want: ban-drop-not-null

-- Columns and tables of this release are unknown to the running color.
ALTER TABLE users ADD COLUMN locale text NOT NULL DEFAULT 'en';
ALTER TABLE users ALTER COLUMN locale DROP NOT NULL;
CREATE TABLE teams (id bigint PRIMARY KEY, title text NOT NULL);
ALTER TABLE teams ALTER COLUMN title DROP NOT NULL;
