-- One statement runs alone: it is applied or it is not.
CREATE TABLE app.single (id bigint PRIMARY KEY);
