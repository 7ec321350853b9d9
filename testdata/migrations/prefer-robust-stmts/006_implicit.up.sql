-- golang-migrate sends the file as one query: PostgreSQL runs it as one
-- implicit transaction.
CREATE TABLE app.implicit (id bigint PRIMARY KEY);
ALTER TABLE app.implicit ADD COLUMN name text;
