-- bgmigrate:phase contract -- the whole file waits for retirement on purpose
ALTER TABLE orders ADD COLUMN total numeric;
ALTER TABLE users DROP COLUMN locale;
