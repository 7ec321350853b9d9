-- bgmigrate:phase contract -- release 41 sets orders.status on every insert
ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
