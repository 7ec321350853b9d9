-- bgmigrate:phase contract -- release 43 writes users.bio on every insert
ALTER TABLE users ADD CONSTRAINT users_bio_nn CHECK (bio IS NOT NULL) NOT VALID;
