ALTER TABLE users DROP COLUMN legacy_flag; -- want: ban-drop-column
ALTER TABLE users DROP COLUMN IF EXISTS nickname, DROP COLUMN bio; -- want: ban-drop-column, ban-drop-column
-- A column added in the same file is unknown to the running color.
ALTER TABLE users ADD COLUMN scratch text;
ALTER TABLE users DROP COLUMN scratch;
