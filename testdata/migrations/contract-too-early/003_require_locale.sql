SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN locale SET NOT NULL; -- want: contract-too-early
ALTER TABLE users DROP COLUMN tz; -- want: contract-too-early
-- An existing column: the old color's concern, not this rule's.
ALTER TABLE users DROP COLUMN legacy;
-- A column added and changed in the same file is one step.
ALTER TABLE users ADD COLUMN nick text;
ALTER TABLE users ALTER COLUMN nick SET DEFAULT '';
ALTER TABLE users DROP COLUMN nick;
