CREATE TABLE events (id bigint PRIMARY KEY, payload json, meta jsonb); -- want: prefer-jsonb
ALTER TABLE events ADD COLUMN raw json; -- want: prefer-jsonb
ALTER TABLE events ALTER COLUMN meta TYPE json; -- want: prefer-jsonb
ALTER TABLE events ADD COLUMN tags jsonb[];
ALTER TABLE events ALTER COLUMN payload TYPE jsonb USING payload::jsonb;
