CREATE TABLE users (id bigint PRIMARY KEY, email text, active boolean);
CREATE VIEW active_users AS SELECT id, email FROM users WHERE active;
CREATE VIEW user_emails AS SELECT id, email FROM users;
CREATE MATERIALIZED VIEW user_counts AS SELECT active, count(*) FROM users GROUP BY active;
CREATE VIEW recent_users AS SELECT id, email FROM users WHERE active;
CREATE VIEW old_users AS SELECT id, email FROM users WHERE NOT active;
