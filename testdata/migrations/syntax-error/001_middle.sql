CREATE TABLE app.orders (id bigint PRIMARY KEY, status text);
-- The bad statement is reported where PostgreSQL's parser stopped …
ALTER TABLE app.orders ADD COLUMN note text DEFALT 'x'; -- want: syntax-error
-- … and the statements after it are still parsed and linted.
CREATE INDEX orders_status_idx ON app.orders (status);
SELECT 'café' AS naïve, 1 +; -- want: syntax-error
CREATE TABLE app.items (id bigint PRIMARY KEY);
