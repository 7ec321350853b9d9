CREATE TABLE documents (id bigint PRIMARY KEY, tenant_id bigint);
CREATE TABLE notes (id bigint PRIMARY KEY);
CREATE SEQUENCE doc_numbers;
GRANT SELECT, INSERT ON documents TO app;
