CREATE TABLE app.orders (id bigint PRIMARY KEY, note text);
-- bgmigrate:ignore require-concurrent-index-creation -- built before the table had rows
CREATE INDEX orders_note_idx ON app.orders (note);
/* bgmigrate:ignore require-concurrent-index-creation */ -- want: invalid-directive
CREATE INDEX orders_note2_idx ON app.orders (note);
-- bgmigrate:ignore -- want: invalid-directive
ALTER TABLE app.orders ADD COLUMN a text;
-- bgmigrate:ignore no-such-rule -- a typo silences nothing -- want: invalid-directive
ALTER TABLE app.orders ADD COLUMN b text;
-- bgmigrate:silence ban-drop-column -- unknown verb -- want: invalid-directive
ALTER TABLE app.orders DROP COLUMN b;
-- bgmigrate:phase sideways -- not a phase -- want: invalid-directive
ALTER TABLE app.orders ADD COLUMN c text;
-- bgmigrate:phase expand -- a valid phase with a reason
ALTER TABLE app.orders ADD COLUMN d text;
/* bgmigrate:ignore-file -- want: invalid-directive */
-- bgmigrate:backfill table=orders batch -- want: invalid-directive
UPDATE app.orders SET note = '';
-- Squawk's form needs no reason, and its ids with no counterpart are accepted.
-- squawk-ignore ban-drop-column
ALTER TABLE app.orders DROP COLUMN c;
-- squawk-ignore ban-alter-domain-with-add-constraint
ALTER TABLE app.orders DROP COLUMN d;
-- squawk-ignore not-a-squawk-rule -- want: invalid-directive
SELECT 1;
