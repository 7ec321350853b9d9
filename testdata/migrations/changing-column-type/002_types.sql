-- Rewrites.
ALTER TABLE orders ALTER COLUMN customer_id TYPE bigint; -- want: changing-column-type
ALTER TABLE orders ALTER COLUMN code TYPE varchar(10); -- want: changing-column-type
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,4); -- want: changing-column-type
ALTER TABLE orders ALTER COLUMN flag TYPE boolean USING flag::boolean; -- want: changing-column-type
ALTER TABLE orders ALTER COLUMN missing TYPE text; -- want: changing-column-type
ALTER TABLE orders ALTER COLUMN label TYPE varchar(80) USING lower(label); -- want: changing-column-type

-- Binary-compatible: no rewrite.
ALTER TABLE orders ALTER COLUMN code TYPE varchar(200);
ALTER TABLE orders ALTER COLUMN name TYPE text;
ALTER TABLE orders ALTER COLUMN label TYPE varchar;
ALTER TABLE orders ALTER COLUMN amount TYPE numeric(14,2);
ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamp(6);
ALTER TABLE orders ALTER COLUMN ip TYPE inet;
-- A USING that is the column itself, or the column cast to the new type, is
-- the conversion PostgreSQL would do without it: no rewrite either.
ALTER TABLE orders ALTER COLUMN code TYPE varchar(250) USING code;
ALTER TABLE orders ALTER COLUMN amount TYPE numeric(16,2) USING amount::numeric(16,2);
ALTER TABLE orders ALTER COLUMN id TYPE integer USING id::integer;
ALTER TABLE orders ALTER COLUMN id TYPE int4 USING id::int;
