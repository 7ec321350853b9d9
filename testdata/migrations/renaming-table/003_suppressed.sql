-- The safe recipe: the old name lives on as a view.
-- bgmigrate:ignore renaming-table -- the view keeps the old name working
ALTER TABLE audit RENAME TO audit_events;
CREATE VIEW audit AS SELECT * FROM audit_events;
