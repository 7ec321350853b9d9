-- A file written for another database.
CREATE TABLE app.users (
    id bigint AUTO_INCREMENT PRIMARY KEY, -- want: syntax-error
    email text NOT NULL
);
ALTER TABLE app.users ADD COLUMN name text;
