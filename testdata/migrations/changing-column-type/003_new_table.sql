-- The old type is the one left by the previous file: varchar(200) to varchar(100) shrinks.
ALTER TABLE orders ALTER COLUMN code TYPE varchar(100); -- want: changing-column-type

-- A table created in the same release.
CREATE TABLE refunds (id integer PRIMARY KEY, amount integer);
ALTER TABLE refunds ALTER COLUMN amount TYPE bigint;
