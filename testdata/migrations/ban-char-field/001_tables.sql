CREATE TABLE app.countries (
    code char(2) PRIMARY KEY, -- want: ban-char-field
    iso3 character(3), -- want: ban-char-field
    flag char, -- want: ban-char-field
    kind "char",
    name text NOT NULL,
    local_name varchar(100)
);
ALTER TABLE app.countries ADD COLUMN region bpchar(4); -- want: ban-char-field
ALTER TABLE app.countries ALTER COLUMN name TYPE char(60); -- want: ban-char-field
ALTER TABLE app.countries ALTER COLUMN iso3 TYPE text;
SELECT 'ab'::char(2);
