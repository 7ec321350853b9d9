CREATE TABLE app.orders (
    id serial PRIMARY KEY, -- want: prefer-bigint-over-int
    quantity integer NOT NULL, -- want: prefer-bigint-over-int
    tries int4, -- want: prefer-bigint-over-int
    codes int[], -- want: prefer-bigint-over-int
    total bigint NOT NULL,
    small smallint,
    big bigserial,
    ratio numeric(10, 2),
    n bigint GENERATED ALWAYS AS IDENTITY
);
ALTER TABLE app.orders ADD COLUMN retries int DEFAULT 0; -- want: prefer-bigint-over-int
ALTER TABLE app.orders ADD COLUMN retries2 bigint DEFAULT 0;
ALTER TABLE app.orders
    ALTER COLUMN total TYPE integer; -- want: prefer-bigint-over-int
ALTER TABLE app.orders ALTER COLUMN quantity TYPE bigint;
-- Casts and function signatures are not columns.
SELECT 1::int;
CREATE FUNCTION app.add(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b';
DO $$
BEGIN
    ALTER TABLE app.orders ADD COLUMN legacy integer; -- want: prefer-bigint-over-int
END
$$;
