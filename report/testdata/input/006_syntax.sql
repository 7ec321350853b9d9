CREATE TABLE broken (id int,, name text);
CREATE TABLE fine (id bigint PRIMARY KEY);
