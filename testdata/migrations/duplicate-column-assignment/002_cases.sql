-- bgmigrate:ignore unbatched-backfill -- a tiny table
UPDATE orders SET status = 'new', status = lower(status); -- want: duplicate-column-assignment
-- bgmigrate:ignore unbatched-backfill -- a tiny table
UPDATE orders SET (status, total) = ('a', 1), status = 'b'; -- want: duplicate-column-assignment
INSERT INTO orders (id, status, id) VALUES (1, 'a', 2); -- want: duplicate-column-assignment
CREATE VIEW order_totals AS SELECT id, total, total FROM orders; -- want: duplicate-column-assignment
CREATE VIEW order_flags AS SELECT 1, 2; -- want: duplicate-column-assignment
CREATE VIEW order_names (a, a) AS SELECT id, total FROM orders; -- want: duplicate-column-assignment
CREATE VIEW order_alias AS SELECT id, status AS id FROM orders; -- want: duplicate-column-assignment

-- Allowed: distinct names, subscripts, a star, a view's own names.
-- bgmigrate:ignore unbatched-backfill -- a tiny table
UPDATE orders SET tags[1] = 'a', tags[2] = 'b';
-- bgmigrate:ignore unbatched-backfill -- a tiny table
UPDATE orders SET status = 'x', total = 0;
INSERT INTO orders (id, status) VALUES (3, 'a');
CREATE VIEW order_all AS SELECT * FROM orders;
CREATE VIEW order_two AS SELECT id, total AS amount, total FROM orders;
CREATE VIEW order_cols (order_id, amount) AS SELECT id, total FROM orders;
CREATE VIEW order_counts AS SELECT count(*), sum(total) FROM orders;
