ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL; -- want: adding-not-nullable-field
ALTER TABLE orders -- want: adding-not-nullable-field
    ALTER COLUMN region SET NOT NULL,
    ALTER COLUMN note SET NOT NULL;

-- The recipe: a validated CHECK (col IS NOT NULL) lets SET NOT NULL skip the scan.
ALTER TABLE orders ADD CONSTRAINT orders_channel_not_null CHECK (channel IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_channel_not_null;
ALTER TABLE orders ALTER COLUMN channel SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_channel_not_null;
