-- The contract step of the recipe: in one transaction the table replaces
-- the view that held its new name.
BEGIN;
DROP VIEW billing.receipts;
ALTER TABLE public.receipts SET SCHEMA billing;
COMMIT;

-- A move followed by a view with the old name: the old name never goes.
BEGIN;
ALTER TABLE refunds SET SCHEMA billing;
CREATE VIEW public.refunds AS SELECT * FROM billing.refunds;
COMMIT;

-- Outside a transaction, the name is missing in between.
ALTER TABLE credits SET SCHEMA billing; -- want: ban-set-schema
CREATE VIEW credits AS SELECT * FROM billing.credits;
