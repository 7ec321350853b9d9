-- The same trap in two steps: a column of this release, which the running
-- color does not set, made required afterwards.
ALTER TABLE orders ADD COLUMN coupon text;
ALTER TABLE orders ADD CONSTRAINT orders_coupon_nn CHECK (coupon IS NOT NULL) NOT VALID; -- want: adding-required-field
ALTER TABLE orders ALTER COLUMN coupon SET NOT NULL; -- want: adding-required-field
ALTER TABLE orders ADD COLUMN batch int NOT NULL DEFAULT 0;
ALTER TABLE orders ALTER COLUMN batch DROP DEFAULT; -- want: adding-required-field
-- With a default the running color's inserts still get a value.
ALTER TABLE orders ADD COLUMN source text DEFAULT 'web';
ALTER TABLE orders ALTER COLUMN source SET NOT NULL;
-- Existing columns are tightening-constraint's and ban-drop-default's business.
ALTER TABLE orders ALTER COLUMN note SET NOT NULL;
ALTER TABLE orders ALTER COLUMN currency DROP DEFAULT;
