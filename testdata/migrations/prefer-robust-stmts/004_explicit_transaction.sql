BEGIN;
CREATE TABLE app.items (id bigint PRIMARY KEY);
ALTER TABLE app.items ADD COLUMN name text;
DROP TABLE app.items_old;
COMMIT;
-- After COMMIT the statements run one by one again.
ALTER TABLE app.items ADD COLUMN price bigint; -- want: prefer-robust-stmts
