-- Contract: the old color stopped reading legacy_flag.
-- bgmigrate:phase contract -- release 41 stopped reading users.legacy_flag
ALTER TABLE users DROP COLUMN legacy_flag;
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
