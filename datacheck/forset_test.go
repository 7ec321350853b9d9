package datacheck

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/parser"
)

// parseSet parses migrations given as name and SQL, in order.
func parseSet(t testing.TB, files ...string) []*parser.File {
	t.Helper()
	var out []*parser.File
	for i := 0; i+1 < len(files); i += 2 {
		f := parser.Parse(files[i], []byte(files[i+1]), parser.Options{})
		for _, e := range f.Errors {
			t.Fatalf("%v", e)
		}
		out = append(out, f)
	}
	return out
}

// show prints a check for comparison: where, kind, skipped or what.
func show(c Check) string {
	if c.Skipped != "" {
		return fmt.Sprintf("%s %s skipped: %s", c.Where(), c.Kind, c.Skipped)
	}
	return fmt.Sprintf("%s %s: %s", c.Where(), c.Kind, c.What)
}

const usersSQL = `CREATE TABLE users (id bigint PRIMARY KEY, name text, email text, price numeric, code text, big bigint, note varchar(200));
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);
`

func TestForSet(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		pending string // the one pending migration, p.sql, after u.sql
		pg      int
		want    []string
	}{
		{"set not null", "ALTER TABLE users ALTER COLUMN name SET NOT NULL;", 15,
			[]string{"p.sql:1 not null: rows of users have name NULL"}},
		{"fixed by an earlier statement", "UPDATE users SET name = '' WHERE name IS NULL;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;", 15,
			[]string{"p.sql:2 not null skipped: depends on rows written by line 1"}},
		{"primary key column already not null", "ALTER TABLE users ALTER COLUMN id SET NOT NULL;", 15, nil},
		{"unique index", "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);", 15,
			[]string{"p.sql:1 unique: rows of users share their email with another row"}},
		{"partial unique index", "CREATE UNIQUE INDEX users_email_key ON users (email, name) WHERE (price > 0);", 15,
			[]string{"p.sql:1 unique: rows of users share their (email, name) with another row where (price > 0)"}},
		{"expression index", "CREATE UNIQUE INDEX users_lower_key ON users (lower(email));", 15,
			[]string{"p.sql:1 unique skipped: the index is on an expression, which bgmigrate does not count"}},
		{"unique constraint", "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);", 15,
			[]string{"p.sql:1 unique: rows of users share their email with another row"}},
		{"primary key", "CREATE TABLE t (a int, b int);\nALTER TABLE orders ADD PRIMARY KEY (user_id);", 15,
			[]string{"p.sql:2 not null: rows of orders have user_id NULL", "p.sql:2 unique: rows of orders share their user_id with another row"}},
		{"foreign key to the primary key", "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users;", 15,
			[]string{"p.sql:1 foreign key: rows of orders have user_id with no row in users"}},
		{"foreign key not valid, then validated", "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT fk;", 15,
			[]string{"p.sql:2 foreign key: rows of orders have user_id with no row in users"}},
		{"foreign key after rows of the referenced table are written", "INSERT INTO users (id) SELECT DISTINCT user_id FROM orders;\nALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users;", 15,
			[]string{"p.sql:2 foreign key skipped: depends on rows written by line 1"}},
		{"check", "ALTER TABLE users ADD CONSTRAINT price_positive CHECK (price > 0);", 15,
			[]string{"p.sql:1 check: rows of users fail CHECK (price > 0)"}},
		{"check not valid, then validated", "ALTER TABLE users ADD CONSTRAINT c CHECK (price > 0) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT c;", 15,
			[]string{"p.sql:2 check: rows of users fail CHECK (price > 0)"}},
		{"validate an unknown constraint", "ALTER TABLE users VALIDATE CONSTRAINT nope;", 15,
			[]string{"p.sql:1 check skipped: constraint nope of users is not known from the migrations"}},
		{"cast with USING", "ALTER TABLE users ALTER COLUMN code TYPE integer USING code::integer;", 16,
			[]string{"p.sql:1 cast: rows of users fail the conversion of code to integer USING code::int"}},
		{"cast to a shorter varchar", "ALTER TABLE users ALTER COLUMN note TYPE varchar(10);", 15,
			[]string{"p.sql:1 cast: rows of users have a note longer than 10 characters"}},
		{"cast to text", "ALTER TABLE users ALTER COLUMN big TYPE text;", 15, nil},
		{"cast on 15", "ALTER TABLE users ALTER COLUMN big TYPE integer;", 15,
			[]string{"p.sql:1 cast: rows of users fail the conversion of big to integer"}},
		{"cast on 16", "ALTER TABLE users ALTER COLUMN big TYPE integer;", 16,
			[]string{"p.sql:1 cast: rows of users have a big that is not a valid integer"}},
		{"cast of a decimal to an integer runs the conversion", "ALTER TABLE users ALTER COLUMN price TYPE integer;", 16,
			[]string{"p.sql:1 cast: rows of users fail the conversion of price to integer"}},
		{"cast to a type the migration creates", "CREATE TYPE mood AS ENUM ('a');\nALTER TABLE users ALTER COLUMN code TYPE mood USING code::mood;", 15,
			[]string{"p.sql:2 cast skipped: type mood is new: created by line 1"}},
		{"add column not null", "ALTER TABLE users ADD COLUMN bio text NOT NULL;", 15,
			[]string{"p.sql:1 rows: rows of users would have the new column bio NULL (NOT NULL without a default)"}},
		{"add column not null with a default", "ALTER TABLE users ADD COLUMN bio text NOT NULL DEFAULT '';", 15, nil},
		{"add column, then set not null", "ALTER TABLE users ADD COLUMN bio text;\nALTER TABLE users ALTER COLUMN bio SET NOT NULL;", 15,
			[]string{"p.sql:2 not null skipped: column bio of users is new: created by line 1"}},
		{"a default on another column leaves the count right", "ALTER TABLE users ADD COLUMN bio text DEFAULT 'x';\nALTER TABLE users ALTER COLUMN name SET NOT NULL;", 15,
			[]string{"p.sql:2 not null: rows of users have name NULL"}},
		{"new table", "CREATE TABLE t (a int);\nCREATE UNIQUE INDEX ON t (a);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;", 15,
			[]string{"p.sql:2 unique skipped: t is new: created by line 1", "p.sql:3 not null skipped: t is new: created by line 1"}},
		{"renamed column", "ALTER TABLE users RENAME COLUMN name TO full_name;\nALTER TABLE users ALTER COLUMN full_name SET NOT NULL;", 15,
			[]string{"p.sql:2 not null skipped: column full_name of users is new: renamed to that by line 1"}},
		{"not valid", "ALTER TABLE users ADD CONSTRAINT c CHECK (price > 0) NOT VALID;", 15, nil},
		{"a DO block that updates", "DO $$ BEGIN UPDATE users SET name = ''; END $$;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;", 15,
			[]string{"p.sql:2 not null skipped: depends on rows written by line 1"}},
		{"a DO block with dynamic SQL", "DO $$ BEGIN EXECUTE 'UPDATE ' || 'users SET name = 1'; END $$;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;", 15,
			[]string{"p.sql:2 not null skipped: depends on rows line 1 may write (dynamic SQL)"}},
		{"a function that updates, called", "CREATE FUNCTION fix() RETURNS void LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET name = ''; END $$;\nSELECT fix();\nALTER TABLE users ALTER COLUMN name SET NOT NULL;", 15,
			[]string{"p.sql:3 not null skipped: depends on rows written by line 2"}},
		{"an unknown procedure", "CALL fix_users();\nALTER TABLE users ALTER COLUMN name SET NOT NULL;", 15,
			[]string{"p.sql:2 not null skipped: depends on rows line 1 may write (it calls fix_users, which the migrations do not define)"}},
		{"copy", "COPY users (id, name) FROM stdin;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;", 15,
			[]string{"p.sql:2 not null skipped: depends on rows written by line 1"}},
		{"another table's rows written", "UPDATE orders SET user_id = 1;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;", 15,
			[]string{"p.sql:2 not null: rows of users have name NULL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := parseSet(t, "u.sql", usersSQL, "p.sql", tc.pending)
			var got []string
			for _, c := range ForSet(files, 1, tc.pg) {
				got = append(got, show(c))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// Statements of a later pending migration that depend on an earlier one
// name it; the applied ones feed the catalog only.
func TestForSetAcrossFiles(t *testing.T) {
	t.Parallel()
	files := parseSet(t,
		"001_users.sql", usersSQL,
		"002_backfill.sql", "ALTER TABLE users ADD CONSTRAINT c CHECK (price > 0) NOT VALID;\nUPDATE users SET price = 1 WHERE price <= 0;\n",
		"003_validate.sql", "ALTER TABLE users VALIDATE CONSTRAINT c;\nALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;\n")
	var got []string
	for _, c := range ForSet(files, 1, 15) {
		got = append(got, show(c))
	}
	want := []string{
		"003_validate.sql:1 check skipped: depends on rows written by 002_backfill.sql:2",
		"003_validate.sql:2 not null: rows of orders have user_id NULL",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// From the last file alone, the constraint is known from the replay.
	got = nil
	for _, c := range ForSet(files, 2, 15) {
		got = append(got, show(c))
	}
	if want := "003_validate.sql:1 check: rows of users fail CHECK (price > 0)"; len(got) != 2 || got[0] != want {
		t.Errorf("got %q, want %q first", got, want)
	}
}

func TestCheckSQL(t *testing.T) {
	t.Parallel()
	files := parseSet(t, "u.sql", `CREATE TABLE "Users" (id bigint PRIMARY KEY, "Name" text, email text, org int);`,
		"p.sql", `ALTER TABLE "Users" ALTER COLUMN "Name" SET NOT NULL;
CREATE UNIQUE INDEX ON "Users" (email) WHERE email <> '';
ALTER TABLE "Users" ADD FOREIGN KEY (org) REFERENCES "Users";
ALTER TABLE "Users" ALTER COLUMN email TYPE int;`)
	checks := ForSet(files, 1, 16)
	want := []struct{ sql, sample string }{
		{`SELECT count(*) FROM "Users" WHERE "Name" IS NULL`, `SELECT count(*) FILTER (WHERE "Name" IS NULL), count(*) FROM "Users" TABLESAMPLE SYSTEM ($1)`},
		{`SELECT coalesce(sum(n), 0)::bigint FROM (SELECT count(*) AS n FROM "Users" WHERE email IS NOT NULL AND (email <> '') GROUP BY email HAVING count(*) > 1) AS dup`, ``},
		{`SELECT count(*) FROM "Users" AS r WHERE r.org IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "Users" AS p WHERE p.id = r.org)`,
			`SELECT count(*) FILTER (WHERE r.org IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "Users" AS p WHERE p.id = r.org)), count(*) FROM "Users" AS r TABLESAMPLE SYSTEM ($1)`},
		{`SELECT count(*) FROM "Users" WHERE email IS NOT NULL AND NOT pg_input_is_valid(email::text, 'integer')`, ``},
	}
	if len(checks) != len(want) {
		t.Fatalf("%d checks, want %d: %v", len(checks), len(want), checks)
	}
	for i, w := range want {
		if checks[i].SQL != w.sql || (w.sample != "" && checks[i].Sample != w.sample) {
			t.Errorf("check %d:\n  SQL    %s\n  sample %s\nwant\n  SQL    %s\n  sample %s", i, checks[i].SQL, checks[i].Sample, w.sql, w.sample)
		}
		if checks[i].Relation != `"Users"` || checks[i].Table != "Users" {
			t.Errorf("check %d: relation %s, table %s", i, checks[i].Relation, checks[i].Table)
		}
	}
	if fb := checks[3].Fallback; fb == nil || !fb.Convert || fb.SQL != `SELECT count(CAST(email AS integer)) FROM "Users"` {
		t.Errorf("the pg_input_is_valid count has no conversion to fall back on: %+v", checks[3].Fallback)
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	c := Check{Path: "003_users_not_null.sql", Line: 2, Table: "users", What: "rows of users have name NULL"}
	for _, tc := range []struct {
		r    Result
		want string
	}{
		{Result{Check: c, Rows: 50}, "003_users_not_null.sql:2 will fail: 50 rows of users have name NULL"},
		{Result{Check: c, Rows: 1}, "003_users_not_null.sql:2 will fail: 1 row of users has name NULL"},
		{Result{Check: c, Rows: 4980, Sampled: true}, "003_users_not_null.sql:2 will fail: about 4980 rows of users have name NULL (sampled)"},
		{Result{Check: c}, "003_users_not_null.sql:2: no rows of users have name NULL"},
		{Result{Check: c, TimedOut: true, Err: "the count took longer than 30s"}, "003_users_not_null.sql:2 not checked: the count took longer than 30s"},
		{Result{Check: Check{Path: "p.sql", Line: 1, What: "rows of users fail the conversion of code to integer", Convert: true}, Fails: `invalid input syntax for type integer: "x"`},
			`p.sql:1 will fail: at least one row of users fails the conversion of code to integer: invalid input syntax for type integer: "x"`},
		{Result{Check: Check{Path: "p.sql", Line: 1, Skipped: "depends on rows written by line 3"}}, "p.sql:1 not checked: depends on rows written by line 3"},
	} {
		if got := tc.r.Message(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

// Every What of the checks reads right in the singular.
func TestSingular(t *testing.T) {
	t.Parallel()
	files := parseSet(t, "u.sql", usersSQL, "p.sql", `ALTER TABLE users ALTER COLUMN name SET NOT NULL;
CREATE UNIQUE INDEX ON users (email);
ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users;
ALTER TABLE users ADD CHECK (price > 0);
ALTER TABLE users ALTER COLUMN note TYPE varchar(3);
ALTER TABLE users ALTER COLUMN code TYPE int USING code::int;
ALTER TABLE users ALTER COLUMN big TYPE int;
ALTER TABLE users ADD COLUMN x int NOT NULL;`)
	checks := ForSet(files, 1, 16)
	if len(checks) != 8 {
		t.Fatalf("%d checks", len(checks))
	}
	for _, c := range checks {
		s := singular(c.What)
		if !strings.HasPrefix(s, "row of ") || strings.Contains(s, " have ") && !strings.Contains(s, " would have ") || s == c.What {
			t.Errorf("singular(%q) = %q", c.What, s)
		}
	}
}

func TestScanner(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ sql, where string }{
		{`CREATE UNIQUE INDEX i ON t (a) WHERE b > 1`, "b > 1"},
		{`CREATE UNIQUE INDEX "where" ON t USING btree ((a + 1), "WHERE") INCLUDE (c) WITH (fillfactor = 70) WHERE (b = 'x WHERE y') -- WHERE`, "(b = 'x WHERE y') -- WHERE"},
		{`CREATE UNIQUE INDEX i ON t (a) /* WHERE */ WHERE e'it\'s WHERE' <> c`, `e'it\'s WHERE' <> c`},
		{`CREATE UNIQUE INDEX i ON t (a)`, ""},
	} {
		if got, _ := indexWhere(tc.sql); got != tc.where {
			t.Errorf("indexWhere(%s) = %q, want %q", tc.sql, got, tc.where)
		}
	}
	if q, ok := copyTable(`COPY app."Users" (a, b) FROM STDIN WITH (FORMAT csv)`); !ok || q.String() != "app.Users" {
		t.Errorf("copy: %v %v", q, ok)
	}
	if _, ok := copyTable(`COPY users TO STDOUT`); ok {
		t.Error("COPY TO writes nothing")
	}
	if q, ok := mergeTable(`MERGE INTO ONLY users u USING x ON true WHEN MATCHED THEN DELETE`); !ok || q.String() != "users" {
		t.Errorf("merge: %v %v", q, ok)
	}
	if !nullsNotDistinct("ALTER TABLE t ADD UNIQUE NULLS NOT DISTINCT (a)") || nullsNotDistinct("CREATE UNIQUE INDEX ON t (a)") {
		t.Error("NULLS NOT DISTINCT")
	}
}
