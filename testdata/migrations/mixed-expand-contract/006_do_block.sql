DO $$ -- want: mixed-expand-contract
BEGIN
  ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
  ALTER TABLE users DROP COLUMN email_verified;
END $$;
