-- contract migration split from 0003_rename_customers_name.up.sql by bgmigrate split.
-- bgmigrate:phase contract -- the old color used customers.name, which the new release no longer does
SET lock_timeout = '2s';
ALTER TABLE customers ADD CONSTRAINT customers_full_name_not_null CHECK (full_name IS NOT NULL) NOT VALID;
DROP TRIGGER customers_sync_name_full_name ON customers;
DROP FUNCTION customers_sync_name_full_name();
ALTER TABLE customers DROP COLUMN name;
