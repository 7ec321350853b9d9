-- bgmigrate:phase contract -- release 41 stopped reading users.email
ALTER TABLE users DROP COLUMN email;
