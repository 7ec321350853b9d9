-- Created again in the same transaction with every column it had: the
-- running color's queries of the view keep working.
BEGIN;
DROP VIEW recent_users;
CREATE VIEW recent_users AS SELECT id, email, active FROM users WHERE active;
COMMIT;

-- Created again without a column the running color may read.
BEGIN;
DROP VIEW old_users; -- want: ban-drop-view
CREATE VIEW old_users AS SELECT id FROM users WHERE NOT active;
COMMIT;
