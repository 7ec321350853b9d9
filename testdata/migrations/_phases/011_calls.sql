-- A helper function created for a later contract migration.
-- file-class: expand
CREATE FUNCTION cleanup() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE moved_log; ALTER TABLE orders DROP COLUMN priority; END $$; -- class: expand
