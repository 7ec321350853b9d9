CREATE TABLE sessions (id bigint PRIMARY KEY, token text);
CREATE TABLE audit (id bigint PRIMARY KEY);
CREATE TABLE archive (id bigint PRIMARY KEY);
CREATE TABLE legacy (id bigint PRIMARY KEY);
CREATE FUNCTION purge_legacy() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DROP TABLE legacy;
END $$;
