CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_flag boolean, note text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);
