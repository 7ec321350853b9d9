CREATE TABLE app.orders (
    id bigint PRIMARY KEY,
    created_at timestamp NOT NULL DEFAULT now(), -- want: prefer-timestamp-tz
    updated_at timestamp without time zone, -- want: prefer-timestamp-tz
    paid_at timestamp(3), -- want: prefer-timestamp-tz
    shipped_at timestamptz,
    delivered_at timestamp with time zone,
    due date
);
ALTER TABLE app.orders ADD COLUMN cancelled_at timestamp; -- want: prefer-timestamp-tz
ALTER TABLE app.orders ALTER COLUMN shipped_at TYPE timestamp; -- want: prefer-timestamp-tz
ALTER TABLE app.orders ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC';
SELECT now()::timestamp;
