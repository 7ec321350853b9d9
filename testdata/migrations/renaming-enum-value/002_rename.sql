ALTER TYPE order_status RENAME VALUE 'shipped' TO 'sent'; -- want: renaming-enum-value
ALTER TYPE unknown_type RENAME VALUE 'a' TO 'b'; -- want: renaming-enum-value

-- Adding a value is an expand step.
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';
-- Enums of this release are unknown to the running color.
CREATE TYPE mood AS ENUM ('ok', 'meh');
ALTER TYPE mood RENAME VALUE 'meh' TO 'bad';
