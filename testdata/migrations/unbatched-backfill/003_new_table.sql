-- A table created in the same release: its rows are the migration's own.
CREATE TABLE refunds (id bigint PRIMARY KEY, reason text);
INSERT INTO refunds VALUES (1, NULL);
UPDATE refunds SET reason = 'n/a';
DELETE FROM refunds;
