CREATE TABLE "naïve_events" (id bigint PRIMARY KEY, payload text);
ALTER TABLE users DROP COLUMN display_name;
