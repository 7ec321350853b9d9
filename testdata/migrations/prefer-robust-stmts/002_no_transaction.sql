-- +goose NO TRANSACTION
-- +goose Up
CREATE TABLE app.audit (id bigint PRIMARY KEY); -- want: prefer-robust-stmts
CREATE TABLE IF NOT EXISTS app.audit_log (id bigint PRIMARY KEY);
CREATE INDEX audit_id_idx ON app.audit (id); -- want: prefer-robust-stmts
CREATE INDEX IF NOT EXISTS audit_id2_idx ON app.audit (id);
ALTER TABLE app.orders
    ADD COLUMN audit_id bigint, -- want: prefer-robust-stmts
    ADD COLUMN IF NOT EXISTS audit_note text;
ALTER TABLE app.orders DROP COLUMN note; -- want: prefer-robust-stmts
ALTER TABLE app.orders DROP COLUMN IF EXISTS status;
DROP INDEX app.orders_status_idx; -- want: prefer-robust-stmts
DROP INDEX IF EXISTS app.orders_status2_idx;
DROP TABLE app.audit_old, app.audit_older; -- want: prefer-robust-stmts
DROP TABLE IF EXISTS app.audit_tmp;
DROP TYPE app.mood; -- want: prefer-robust-stmts
-- A constraint dropped first (IF EXISTS) can be added again on a retry.
ALTER TABLE app.orders DROP CONSTRAINT IF EXISTS orders_audit_fk;
ALTER TABLE app.orders ADD CONSTRAINT orders_audit_fk FOREIGN KEY (audit_id) REFERENCES app.audit NOT VALID;
ALTER TABLE app.orders ADD CONSTRAINT orders_id_positive CHECK (id > 0) NOT VALID; -- want: prefer-robust-stmts
ALTER TABLE app.orders DROP CONSTRAINT orders_old_check; -- want: prefer-robust-stmts
-- VALIDATE is idempotent; so are statements that create nothing.
ALTER TABLE app.orders VALIDATE CONSTRAINT orders_audit_fk;
UPDATE app.orders SET audit_note = '' WHERE audit_note IS NULL;
CREATE TEMPORARY TABLE scratch (id bigint);
-- A DO block runs as one statement, in one transaction.
DO $$
BEGIN
    CREATE TABLE app.in_do (id bigint);
END
$$;
