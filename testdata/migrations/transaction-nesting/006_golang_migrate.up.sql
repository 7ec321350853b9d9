-- golang-migrate sends the file as one query: an explicit BEGIN takes over its implicit transaction.
BEGIN;
ALTER TABLE orders ADD COLUMN e text;
COMMIT;
