CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
CREATE FUNCTION order_total(o bigint) RETURNS numeric LANGUAGE sql AS $$ SELECT total FROM orders WHERE id = o $$;
CREATE PROCEDURE archive_orders() LANGUAGE sql AS $$ DELETE FROM orders WHERE total = 0 $$;
CREATE FUNCTION old_helper() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
