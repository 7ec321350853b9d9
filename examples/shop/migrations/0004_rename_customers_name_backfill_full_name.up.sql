-- expand migration split from 0003_rename_customers_name.up.sql by bgmigrate split.
SET lock_timeout = '2s';
-- bgmigrate:backfill table=customers batch=1000
UPDATE customers SET full_name = name WHERE full_name IS DISTINCT FROM name;
