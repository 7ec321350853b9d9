ALTER TABLE users RENAME COLUMN email TO email_address; -- want: renaming-column
ALTER VIEW user_names RENAME COLUMN name TO full_name; -- want: renaming-column

-- Columns and tables of this release are unknown to the running color.
ALTER TABLE users ADD COLUMN phone text;
ALTER TABLE users RENAME COLUMN phone TO phone_number;
CREATE TABLE teams (id bigint PRIMARY KEY, title text);
ALTER TABLE teams RENAME COLUMN title TO name;
-- Renaming the table is the other rule's business.
ALTER TABLE users RENAME TO accounts;
