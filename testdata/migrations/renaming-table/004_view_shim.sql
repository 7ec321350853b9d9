-- In one transaction, a view with the old name keeps the running color
-- working: the expand step of the recipe, not a breaking rename.
BEGIN;
ALTER TABLE ledger RENAME TO ledger_entries;
CREATE VIEW ledger AS SELECT * FROM ledger_entries;
COMMIT;

-- Without the transaction the old name is missing in between.
ALTER TABLE notes RENAME TO remarks; -- want: renaming-table
CREATE VIEW notes AS SELECT * FROM remarks;
