-- Objects created in the same file are unknown to the running color:
-- dropping, renaming or tightening them breaks nothing.
-- file-class: expand
CREATE TABLE scratch (id bigint PRIMARY KEY, v text); -- class: expand
CREATE TYPE mood AS ENUM ('ok', 'meh'); -- class: expand
ALTER TYPE mood RENAME VALUE 'meh' TO 'bad'; -- class: none
ALTER TABLE scratch RENAME TO scratchpad; -- class: none
ALTER TABLE scratchpad SET SCHEMA reporting; -- class: none
ALTER TABLE orders ADD COLUMN tmp text; -- class: expand
ALTER TABLE orders RENAME COLUMN tmp TO tmp2; -- class: none
ALTER TABLE orders ALTER COLUMN tmp2 SET DEFAULT 'x'; -- class: expand
ALTER TABLE orders ALTER COLUMN tmp2 DROP DEFAULT; -- class: none
ALTER TABLE orders ALTER COLUMN tmp2 TYPE int USING tmp2::int; -- class: none
ALTER TABLE orders DROP COLUMN tmp2; -- class: none
CREATE VIEW v_scratch AS SELECT 1 AS one; -- class: expand
DROP VIEW v_scratch; -- class: none
CREATE FUNCTION helper() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; -- class: expand
DROP FUNCTION helper(); -- class: none
CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total); -- class: expand
DROP INDEX CONCURRENTLY orders_total_idx; -- class: none
CREATE SCHEMA staging; -- class: expand
DROP SCHEMA staging; -- class: none
CREATE TABLE tmp_import (id bigint); -- class: expand
TRUNCATE tmp_import; -- class: none
REVOKE ALL ON tmp_import FROM PUBLIC; -- class: none
ALTER TABLE tmp_import ENABLE ROW LEVEL SECURITY; -- class: none
CREATE POLICY tmp_import_owner ON tmp_import USING (true); -- class: expand
DROP TABLE tmp_import; -- class: none
