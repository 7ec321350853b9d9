-- bgmigrate:ignore ban-drop-not-null -- release 41 reads users.name as nullable
ALTER TABLE users ALTER COLUMN name DROP NOT NULL;
