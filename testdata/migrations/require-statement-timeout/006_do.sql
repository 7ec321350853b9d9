DO $$ -- want: require-statement-timeout
BEGIN
    ALTER TABLE orders ADD CONSTRAINT orders_total_cap CHECK (total < 9000000);
END
$$;
