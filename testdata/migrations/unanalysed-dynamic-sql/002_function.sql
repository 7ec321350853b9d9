CREATE FUNCTION app.add_partition(day date) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE app.events_%s PARTITION OF app.events FOR VALUES FROM (%L) TO (%L)',
        to_char(day, 'YYYYMMDD'), day, day + 1);
END
$$;
-- Defining the function runs nothing; calling it runs the dynamic DDL.
SELECT app.add_partition(current_date); -- want: unanalysed-dynamic-sql
CREATE FUNCTION app.static() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'CREATE TABLE app.static_table (id bigint)';
END
$$;
SELECT app.static();
