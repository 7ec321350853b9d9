-- bgmigrate:ignore unbatched-backfill -- a tiny table
UPDATE orders SET status = 'new', status = lower(status); -- want: duplicate-column-assignment
-- bgmigrate:ignore unbatched-backfill -- a tiny table
UPDATE orders SET (status, total) = ('a', 1), status = 'b'; -- want: duplicate-column-assignment
INSERT INTO orders (id, status, id) VALUES (1, 'a', 2); -- want: duplicate-column-assignment
CREATE VIEW order_totals AS SELECT id, total, total FROM orders; -- want: duplicate-column-assignment
CREATE VIEW order_flags AS SELECT 1, 2; -- want: duplicate-column-assignment
CREATE VIEW order_names (a, a) AS SELECT id, total FROM orders; -- want: duplicate-column-assignment
CREATE VIEW order_alias AS SELECT id, status AS id FROM orders; -- want: duplicate-column-assignment
CREATE VIEW order_maxes AS SELECT (SELECT max(id) FROM orders), max(total) FROM orders; -- want: duplicate-column-assignment
CREATE VIEW order_dates AS SELECT current_date, (now() - id * interval '1 day')::date AS current_date FROM orders; -- want: duplicate-column-assignment

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
-- A scalar subquery is named after its one column.
CREATE VIEW order_subs AS SELECT (SELECT max(id) FROM orders) , (SELECT min(total) AS low FROM orders);
CREATE VIEW order_exprs AS SELECT nullif(total, 0), coalesce(total, 0), ARRAY[id], current_date, current_timestamp(3) FROM orders;
