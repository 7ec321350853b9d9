DROP SCHEMA reporting CASCADE; -- want: ban-drop-schema
-- Unknown to the catalog: taken to exist.
DROP SCHEMA IF EXISTS analytics; -- want: ban-drop-schema

CREATE SCHEMA staging;
DROP SCHEMA staging;
