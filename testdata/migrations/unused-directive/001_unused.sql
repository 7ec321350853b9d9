CREATE TABLE app.orders (id bigint PRIMARY KEY, note text);
-- Only the rule under test and the input rules (syntax-error,
-- invalid-directive) run in this folder, so the directives name those.
-- A syntax error cannot be silenced: the ignore suppresses nothing.
-- bgmigrate:ignore syntax-error -- the statement below parses fine -- want: unused-directive
ALTER TABLE app.orders ADD COLUMN a text;
-- squawk-ignore syntax-error -- want: unused-directive
ALTER TABLE app.orders ADD COLUMN b text;
-- A statement-level ignore of a file-level finding matches nothing either.
-- bgmigrate:ignore invalid-directive -- stale -- want: unused-directive
ALTER TABLE app.orders ADD COLUMN c text;
-- A directive for a rule that did not run is not judged.
-- bgmigrate:ignore ban-drop-column -- the column was never read
ALTER TABLE app.orders DROP COLUMN c;
-- One directive, two rules: only the one that suppresses nothing is reported.
-- bgmigrate:ignore syntax-error, ban-drop-column -- both stale -- want: unused-directive
ALTER TABLE app.orders DROP COLUMN b;
