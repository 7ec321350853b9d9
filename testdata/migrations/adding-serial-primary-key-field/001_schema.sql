CREATE TABLE events (kind text NOT NULL, payload jsonb);
CREATE TABLE audit_log (entry text, at timestamptz);
CREATE TABLE visits (visitor_id bigint, at timestamptz NOT NULL);
CREATE TABLE sessions (token text, user_id bigint);
CREATE TABLE devices (serial_no text, user_id bigint);
CREATE TABLE clicks (x int);
CREATE TABLE pings (x int);
CREATE TABLE taps (x int, code text);
-- A table created in the same file: nobody uses it yet.
CREATE TABLE scratch (note text);
ALTER TABLE scratch ADD COLUMN id bigserial PRIMARY KEY;
