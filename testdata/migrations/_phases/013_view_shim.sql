-- A view that keeps a renamed table reachable under its old name, in the
-- same transaction, makes the rename an expand step.
-- file-class: expand
BEGIN; -- class: none
ALTER TABLE audit_log RENAME TO audit_entries; -- class: expand
CREATE VIEW audit_log AS SELECT * FROM audit_entries; -- class: expand
COMMIT; -- class: none
