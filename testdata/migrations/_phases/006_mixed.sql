-- Expand and contract in one file: the file is mixed.
-- file-class: mixed
ALTER TABLE orders ADD COLUMN currency text DEFAULT 'EUR'; -- class: expand
ALTER TABLE orders DROP COLUMN note; -- class: contract
ALTER TABLE customers ADD COLUMN locale text, DROP COLUMN country; -- class: mixed
