-- bgmigrate:phase contract -- release 12 stopped reading these
-- A file-wide directive before the first statement wins over the inference.
-- file-class: contract
ALTER TABLE orders ADD COLUMN legacy_ref text; -- class: contract
ALTER TABLE orders DROP COLUMN weight; -- class: contract
SET statement_timeout = '5s'; -- class: none
