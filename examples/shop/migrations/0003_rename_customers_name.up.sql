-- expand migration split from 0003_rename_customers_name.up.sql by bgmigrate split.
SET lock_timeout = '2s';
ALTER TABLE customers ADD COLUMN full_name text;
CREATE FUNCTION customers_sync_name_full_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF new.full_name IS NOT DISTINCT FROM NULL AND new.name IS DISTINCT FROM NULL THEN
            new.full_name := new.name;
        ELSIF new.name IS NOT DISTINCT FROM NULL AND new.full_name IS DISTINCT FROM NULL THEN
            new.name := new.full_name;
        ELSIF new.full_name IS DISTINCT FROM (new.name) THEN
            new.name := new.full_name;
        END IF;
    ELSIF new.name IS DISTINCT FROM old.name AND new.full_name IS NOT DISTINCT FROM old.full_name THEN
        new.full_name := new.name;
    ELSIF new.full_name IS DISTINCT FROM old.full_name AND new.name IS NOT DISTINCT FROM old.name AND new.full_name IS DISTINCT FROM (new.name) THEN
        new.name := new.full_name;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER customers_sync_name_full_name BEFORE INSERT OR UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION customers_sync_name_full_name();
