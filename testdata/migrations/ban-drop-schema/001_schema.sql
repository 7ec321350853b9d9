CREATE SCHEMA reporting;
CREATE SCHEMA legacy;
CREATE TABLE reporting.daily (day date PRIMARY KEY);
