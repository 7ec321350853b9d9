-- A table that replaces, in one transaction, the view holding its new name:
-- the name never goes; only the table's old name does.
-- file-class: contract
BEGIN; -- class: none
DROP VIEW audit_log; -- class: none
ALTER TABLE audit_entries RENAME TO audit_log; -- class: contract
COMMIT; -- class: none
