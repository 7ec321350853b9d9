-- Nothing wrong here, dollar quotes and all.
CREATE FUNCTION app.noop() RETURNS void LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
SELECT $tag$ ; not the end $tag$;
