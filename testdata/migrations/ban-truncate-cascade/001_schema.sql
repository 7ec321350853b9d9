CREATE TABLE countries (id bigint PRIMARY KEY);
CREATE TABLE addresses (id bigint PRIMARY KEY, country_id bigint REFERENCES countries (id));
CREATE TABLE staging (id bigint);
