-- A contract phase does not make a rename safe: the running color still uses
-- the old name.
-- bgmigrate:phase contract -- release 41 is retired
ALTER TABLE accounts RENAME COLUMN name TO display_name; -- want: renaming-column
