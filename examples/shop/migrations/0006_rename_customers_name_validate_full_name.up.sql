-- contract migration split from 0003_rename_customers_name.up.sql by bgmigrate split.
-- bgmigrate:phase contract -- the old color used customers.name, which the new release no longer does
SET lock_timeout = '2s';
ALTER TABLE customers VALIDATE CONSTRAINT customers_full_name_not_null;
ALTER TABLE customers ALTER COLUMN full_name SET NOT NULL;
ALTER TABLE customers DROP CONSTRAINT customers_full_name_not_null;
