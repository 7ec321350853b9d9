-- A view dropped and created again in one transaction with every column it
-- had: the running color's queries of it keep working.
-- file-class: expand
BEGIN; -- class: none
DROP VIEW customer_names; -- class: none
CREATE VIEW customer_names AS SELECT id, name, nickname FROM customers; -- class: expand
COMMIT; -- class: none
