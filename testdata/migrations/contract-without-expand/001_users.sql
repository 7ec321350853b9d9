CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_flag boolean, old_notes text, name text);
CREATE TABLE audit_old (id bigint PRIMARY KEY);
