package phases_test

import (
	"testing"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/schema"
)

// deployed is replayed as file 1; each case is replayed as file 2, and the
// class of its last statement is checked.
const deployed = `
CREATE SCHEMA legacy;
CREATE TABLE users (id bigint PRIMARY KEY, email text, name text NOT NULL);
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
`

func TestClassify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, sql string
		want      phases.Class
	}{
		{"drop deployed schema", "DROP SCHEMA legacy", phases.Contract},
		{"drop fresh schema", "CREATE SCHEMA s; DROP SCHEMA s", phases.None},
		{"revoke on deployed table", "REVOKE ALL ON users FROM app", phases.Contract},
		{"revoke on fresh table", "CREATE TABLE t (id int); REVOKE ALL ON t FROM PUBLIC", phases.None},
		{"unique index on deployed column", "CREATE UNIQUE INDEX CONCURRENTLY ON users (email)", phases.Contract},
		{"not null default null", "ALTER TABLE users ADD COLUMN c text NOT NULL DEFAULT NULL", phases.Breaking},
		{"check on fresh column", "ALTER TABLE users ADD COLUMN c int; ALTER TABLE users ADD CHECK (c > 0)", phases.Expand},
		{"check on deployed column", "ALTER TABLE users ADD CHECK (length(email) > 3)", phases.Contract},
		{"check on fresh and deployed columns", "ALTER TABLE users ADD COLUMN c int; ALTER TABLE users ADD CHECK (c > id)", phases.Contract},
		{"set not null on fresh column with default", "ALTER TABLE users ADD COLUMN c int DEFAULT 0; ALTER TABLE users ALTER c SET NOT NULL", phases.Expand},
		{"set not null on fresh column without default", "ALTER TABLE users ADD COLUMN c int; ALTER TABLE users ALTER c SET NOT NULL", phases.Breaking},
		{"not null check on fresh column without default", "ALTER TABLE users ADD COLUMN c int; ALTER TABLE users ADD CHECK (c IS NOT NULL) NOT VALID", phases.Breaking},
		{"drop default of fresh not null column", "ALTER TABLE users ADD COLUMN c int NOT NULL DEFAULT 0; ALTER TABLE users ALTER c DROP DEFAULT", phases.Breaking},
		{"rename deployed schema", "ALTER SCHEMA legacy RENAME TO old", phases.Breaking},
		{"set schema of fresh function", "CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$; ALTER FUNCTION g() SET SCHEMA legacy", phases.None},
		{"set schema of deployed function", "ALTER FUNCTION f() SET SCHEMA legacy", phases.Breaking},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cat := schema.New()
			cat.BeginFile(1, false)
			for _, st := range parse(t, deployed) {
				cat.Apply(st)
			}
			cat.BeginFile(2, false)
			stmts := parse(t, c.sql)
			for _, st := range stmts[:len(stmts)-1] {
				cat.Apply(st)
			}
			in := phases.Classify(stmts[len(stmts)-1], cat, 15)
			if in.Class != c.want {
				t.Errorf("class %s, want %s (%s)", in.Class, c.want, in.Reason)
			}
		})
	}
}

func parse(t *testing.T, sql string) []*parser.Statement {
	t.Helper()
	f := parser.Parse("case.sql", []byte(sql), parser.Options{})
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors[0])
	}
	return f.Statements
}
