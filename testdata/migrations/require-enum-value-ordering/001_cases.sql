CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
ALTER TYPE order_status ADD VALUE 'cancelled'; -- want: require-enum-value-ordering
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'lost'; -- want: require-enum-value-ordering
ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'shipped';
ALTER TYPE order_status ADD VALUE 'draft' BEFORE 'new';
ALTER TYPE order_status RENAME VALUE 'lost' TO 'missing';
