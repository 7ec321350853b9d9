-- Only tables created in the same release: no one is queued.
BEGIN;
CREATE TABLE refunds (id bigint PRIMARY KEY, amount numeric);
ALTER TABLE refunds ADD COLUMN reason text;
UPDATE refunds SET reason = 'n/a';
CREATE INDEX refunds_reason_idx ON refunds (reason);
COMMIT;
