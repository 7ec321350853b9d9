-- bgmigrate:phase contract -- release 3 stopped reading users.bio
DROP INDEX CONCURRENTLY users_bio_idx;
ALTER TABLE users DROP COLUMN bio;
