ALTER TABLE orders ALTER COLUMN currency DROP DEFAULT; -- want: ban-drop-default
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'open', ALTER COLUMN created_at DROP DEFAULT; -- want: ban-drop-default

-- Columns and tables of this release are unknown to the running color.
ALTER TABLE orders ADD COLUMN channel text DEFAULT 'web';
ALTER TABLE orders ALTER COLUMN channel DROP DEFAULT;
CREATE TABLE refunds (id bigint PRIMARY KEY, reason text DEFAULT 'other');
ALTER TABLE refunds ALTER COLUMN reason DROP DEFAULT;
-- Setting a default is an expand step.
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';
