-- DO blocks are classified by the statements they run.
-- file-class: mixed
DO $$ BEGIN RAISE NOTICE 'hello'; END $$; -- class: none
DO $$ -- class: expand
BEGIN
    ALTER TABLE orders ADD COLUMN priority int;
END $$;
DO $$ -- class: contract
BEGIN
    ALTER TABLE orders DROP COLUMN flag;
END $$;
DO $$ -- class: mixed
BEGIN
    ALTER TABLE customers ADD COLUMN timezone text;
    DROP TABLE invoices;
END $$;
