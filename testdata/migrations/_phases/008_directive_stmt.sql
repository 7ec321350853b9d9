-- A phase directive before a later statement overrides that statement only.
-- file-class: expand
ALTER TABLE orders ADD COLUMN flag boolean; -- class: expand
-- bgmigrate:phase expand -- nothing reads customers.locale yet
ALTER TABLE customers DROP COLUMN locale; -- class: expand
