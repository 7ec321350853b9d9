SET lock_timeout = '2s';
-- Required while the old color leaves them unset.
ALTER TABLE users ALTER COLUMN locale SET NOT NULL; -- want: contract-too-early
ALTER TABLE users ADD CONSTRAINT users_country_nn CHECK (country IS NOT NULL) NOT VALID; -- want: contract-too-early
ALTER TABLE users ALTER COLUMN region DROP DEFAULT; -- want: contract-too-early
-- The old color's inserts get the default: nothing fails.
ALTER TABLE users ALTER COLUMN tz SET NOT NULL;
CREATE SEQUENCE users_serial_no_seq OWNED BY users.serial_no;
ALTER TABLE users ALTER COLUMN serial_no SET DEFAULT nextval('users_serial_no_seq');
ALTER TABLE users ALTER COLUMN serial_no SET NOT NULL;
-- Columns the old color never knew: dropping or renaming them is invisible to it.
ALTER TABLE users RENAME COLUMN handle TO nickname;
ALTER TABLE users DROP COLUMN nickname;
-- An existing column: the old color's concern, not this rule's.
ALTER TABLE users DROP COLUMN legacy;
-- A column added and changed in the same file is one step.
ALTER TABLE users ADD COLUMN nick text;
ALTER TABLE users ALTER COLUMN nick SET DEFAULT '';
ALTER TABLE users DROP COLUMN nick;
