-- A trigger dropped and created again on the same table in one transaction
-- keeps firing for the running color's writes.
-- file-class: expand
BEGIN; -- class: none
CREATE FUNCTION orders_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; -- class: expand
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_touch(); -- class: expand
COMMIT; -- class: none
