CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped'); -- want: avoid-enum-type
CREATE TYPE point2 AS (x int, y int);
CREATE DOMAIN slug AS text;
