DROP FUNCTION order_total(bigint); -- want: ban-drop-function
DROP PROCEDURE archive_orders(); -- want: ban-drop-function
DROP ROUTINE IF EXISTS unknown_routine; -- want: ban-drop-function

CREATE FUNCTION new_helper() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;
DROP FUNCTION new_helper();
