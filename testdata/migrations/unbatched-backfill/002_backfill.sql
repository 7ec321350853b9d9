UPDATE orders SET status = 'done' WHERE shipped; -- want: unbatched-backfill
DELETE FROM sessions WHERE expired; -- want: unbatched-backfill
UPDATE orders -- want: unbatched-backfill
    SET status = 'open';

-- bgmigrate runs these in batches.
-- bgmigrate:backfill table=orders batch=5000
UPDATE orders SET status = 'done' WHERE shipped AND status IS DISTINCT FROM 'done';
-- bgmigrate:backfill table=sessions batch=1000 sleep=100ms
DELETE FROM sessions WHERE expired;

-- A DO block that commits between batches.
DO $$
DECLARE n bigint;
BEGIN
    LOOP
        UPDATE orders SET status = 'open' WHERE id IN (SELECT id FROM orders WHERE status IS NULL LIMIT 5000);
        GET DIAGNOSTICS n = ROW_COUNT;
        EXIT WHEN n = 0;
        COMMIT;
    END LOOP;
END
$$;

-- A DO block that does not.
DO $$
BEGIN
    UPDATE orders SET status = 'x' WHERE status IS NULL; -- want: unbatched-backfill
END
$$;
