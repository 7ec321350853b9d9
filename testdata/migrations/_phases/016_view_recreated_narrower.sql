-- Created again without a column it had: the running color may read it.
-- file-class: mixed
BEGIN; -- class: none
DROP VIEW customer_countries; -- class: contract
CREATE VIEW customer_countries AS SELECT id FROM customers; -- class: expand
COMMIT; -- class: none
