DROP DATABASE app_staging; -- want: ban-drop-database
DROP DATABASE IF EXISTS scratch WITH (FORCE); -- want: ban-drop-database

-- Dropping a schema or a table is another rule's business.
DROP SCHEMA IF EXISTS scratch;
