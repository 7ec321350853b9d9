-- file-class: mixed
BEGIN; -- class: none
DROP TRIGGER orders_touch ON orders; -- class: none
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_touch(); -- class: expand
COMMIT; -- class: none
-- Dropped for good: the running color may rely on it.
DROP TRIGGER orders_touch ON orders; -- class: contract
