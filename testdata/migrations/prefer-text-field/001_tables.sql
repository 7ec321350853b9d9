CREATE TABLE app.users (
    id bigint PRIMARY KEY,
    email varchar(255) NOT NULL, -- want: prefer-text-field
    name character varying(100), -- want: prefer-text-field
    nick varchar,
    bio text,
    country char(2),
    CONSTRAINT users_bio_length CHECK (char_length(bio) <= 1000)
);
ALTER TABLE app.users ADD COLUMN phone varchar(32); -- want: prefer-text-field
ALTER TABLE app.users ALTER COLUMN nick TYPE varchar(40); -- want: prefer-text-field
ALTER TABLE app.users ALTER COLUMN email TYPE text;
ALTER TABLE app.users ADD COLUMN tags varchar(20)[]; -- want: prefer-text-field
SELECT 'x'::varchar(10);
