-- Breaking: a rename, and a drop that was reviewed.
ALTER TABLE users RENAME COLUMN nickname TO display_name;
-- bgmigrate:ignore ban-drop-column -- the column was never released
ALTER TABLE users DROP COLUMN city;
