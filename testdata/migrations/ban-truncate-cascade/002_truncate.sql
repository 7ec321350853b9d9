TRUNCATE countries CASCADE; -- want: ban-truncate-cascade
TRUNCATE TABLE staging, countries RESTART IDENTITY CASCADE; -- want: ban-truncate-cascade
-- Even a table of this release: other tables may reference it.
CREATE TABLE imports (id bigint PRIMARY KEY);
TRUNCATE imports CASCADE; -- want: ban-truncate-cascade

-- Named tables only: PostgreSQL refuses if another table references them.
TRUNCATE staging;
TRUNCATE addresses, countries RESTRICT;
