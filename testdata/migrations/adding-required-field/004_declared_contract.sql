-- bgmigrate:phase contract -- release 43 writes orders.tracking on every insert
-- Declared contract: it runs once the old color is retired.
ALTER TABLE orders ADD COLUMN tracking text;
ALTER TABLE orders ADD CONSTRAINT orders_tracking_nn CHECK (tracking IS NOT NULL) NOT VALID;
ALTER TABLE orders ALTER COLUMN tracking SET NOT NULL;
