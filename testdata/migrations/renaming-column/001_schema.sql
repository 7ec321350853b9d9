CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);
CREATE VIEW user_names AS SELECT id, name FROM users;
