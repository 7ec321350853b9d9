DROP VIEW active_users; -- want: ban-drop-view
DROP MATERIALIZED VIEW IF EXISTS user_counts; -- want: ban-drop-view
-- Dropping a table or an index is another rule's business.
DROP INDEX IF EXISTS users_email_idx;

CREATE VIEW v_tmp AS SELECT 1 AS one;
DROP VIEW v_tmp;
CREATE MATERIALIZED VIEW mv_tmp AS SELECT 1 AS one;
DROP MATERIALIZED VIEW mv_tmp;
