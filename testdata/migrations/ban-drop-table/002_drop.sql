DROP TABLE sessions; -- want: ban-drop-table
DROP TABLE IF EXISTS audit, never_seen CASCADE; -- want: ban-drop-table, ban-drop-table

-- A table created in the same release is unknown to the running color.
CREATE TABLE scratch (id bigint);
DROP TABLE scratch;

DO $$
BEGIN
    DROP TABLE archive; -- want: ban-drop-table
END $$;

-- The body of a function defined earlier runs here: the call is reported.
SELECT purge_legacy(); -- want: ban-drop-table
