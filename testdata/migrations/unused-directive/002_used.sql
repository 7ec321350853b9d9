-- bgmigrate:ignore-file invalid-directive -- generated file, its directives are checked upstream
ALTER TABLE app.orders ADD COLUMN d text;
-- bgmigrate:frobnicate this directive is malformed, and the ignore-file above silences it
ALTER TABLE app.orders ADD COLUMN e text;
