CREATE TABLE app.products (
    id bigint PRIMARY KEY,
    stock smallint NOT NULL DEFAULT 0, -- want: prefer-bigint-over-smallint
    rank int2, -- want: prefer-bigint-over-smallint
    seq smallserial, -- want: prefer-bigint-over-smallint
    count integer,
    weight bigint
);
ALTER TABLE app.products ADD COLUMN shelf smallint; -- want: prefer-bigint-over-smallint
ALTER TABLE app.products ALTER COLUMN count TYPE int2; -- want: prefer-bigint-over-smallint
ALTER TABLE app.products ALTER COLUMN stock TYPE bigint;
SELECT 1::smallint;
