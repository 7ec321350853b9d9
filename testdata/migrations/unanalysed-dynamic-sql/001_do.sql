CREATE TABLE app.orders (id bigint PRIMARY KEY);
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['orders', 'invoices'] LOOP
        EXECUTE format('ALTER TABLE app.%I ADD COLUMN note text', t); -- want: unanalysed-dynamic-sql
    END LOOP;
    EXECUTE 'DROP INDEX ' || quote_ident(t); -- want: unanalysed-dynamic-sql
    EXECUTE -- want: unanalysed-dynamic-sql
        'CREATE INDEX ' || t || '_idx ON app.orders (id)';
    -- A constant string is parsed and analysed like any statement.
    EXECUTE 'ALTER TABLE app.orders ADD COLUMN status text';
    EXECUTE $q$CREATE TABLE app.audit (id bigint)$q$;
    -- Dynamic statements without DDL words are not reported.
    EXECUTE format('UPDATE app.%I SET note = $1', t) USING 'x';
    EXECUTE 'SELECT count(*) FROM app.' || quote_ident(t) INTO t;
END
$$;
