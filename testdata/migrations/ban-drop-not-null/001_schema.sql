CREATE TABLE users (id bigint PRIMARY KEY, phone text NOT NULL, name text NOT NULL);
