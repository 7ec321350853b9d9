package rules_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/rules"
)

// sizeSchema is the migration before the one linted: the tables exist, so
// the rules see them as tables the running color uses.
const sizeSchema = `
CREATE TABLE users (id bigint PRIMARY KEY, name text, age integer);
CREATE INDEX users_name_idx ON users (name);
CREATE TABLE countries (code text PRIMARY KEY);
CREATE SCHEMA sales;
CREATE TABLE sales.orders (id bigint, country text);
`

// lintSized lints sql after sizeSchema with cfg and returns its findings.
func lintSized(t *testing.T, cfg rules.Config, sql string) []rules.Finding {
	t.Helper()
	runner, err := rules.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	files := []*parser.File{
		parser.Parse("db/0001_schema.sql", []byte(sizeSchema), parser.Options{}),
		parser.Parse("db/0002_change.sql", []byte(sql), parser.Options{}),
	}
	res := runner.RunSet(files)
	return res[1].Findings
}

// finding returns the finding of rule id, failing when there is none.
func finding(t *testing.T, fds []rules.Finding, id string) rules.Finding {
	t.Helper()
	for _, fd := range fds {
		if fd.Rule == id {
			return fd
		}
	}
	t.Fatalf("no %s finding in %+v", id, fds)
	return rules.Finding{}
}

var (
	big     = rules.TableStats{Rows: 1_234_567, Bytes: 340 << 20}
	small   = rules.TableStats{Rows: 10, Bytes: 16 << 10}
	unknown = rules.TableStats{Rows: -1, Bytes: 2_500_000}
)

func TestSizeAwareFindings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tables map[string]rules.TableStats
		small  int
		sql    string
		rule   string
		sev    rules.Severity
		msg    string
	}{{
		name: "rewrite of a large table: error", tables: map[string]rules.TableStats{"users": big}, small: 10000,
		sql:  "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
		rule: "adding-field-with-default", sev: rules.Error,
		msg: `adding column "token" to "users" with the volatile default "gen_random_uuid()": the table is rewritten under an ACCESS EXCLUSIVE lock` +
			" (users: about 1.2M rows, 340 MB; ACCESS EXCLUSIVE for about 21 s)",
	}, {
		name: "rewrite of a small table: info", tables: map[string]rules.TableStats{"users": small}, small: 10000,
		sql:  "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
		rule: "adding-field-with-default", sev: rules.Info,
		msg: `adding column "token" to "users" with the volatile default "gen_random_uuid()": the table is rewritten under an ACCESS EXCLUSIVE lock` +
			" (users: about 10 rows, 16 kB; ACCESS EXCLUSIVE for under 1 ms)",
	}, {
		name: "scan of a large table keeps the rule's severity", tables: map[string]rules.TableStats{"users": big}, small: 10000,
		sql:  "SET lock_timeout = '2s';\nSET statement_timeout = '1min';\nALTER TABLE users ALTER COLUMN name SET NOT NULL;",
		rule: "adding-not-nullable-field", sev: rules.Warning,
		msg: `setting "users"."name" NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock: no validated CHECK (name IS NOT NULL) proves it first` +
			" (users: about 1.2M rows, 340 MB; ACCESS EXCLUSIVE for about 1.8 s)",
	}, {
		name: "index build of a small table: info", tables: map[string]rules.TableStats{"users": small}, small: 10000,
		sql:  "CREATE INDEX users_age_idx ON users (age);",
		rule: "require-concurrent-index-creation", sev: rules.Info,
		msg: `creating index on "users" without CONCURRENTLY blocks writes to it until the build ends (users: about 10 rows, 16 kB; SHARE for under 1 ms)`,
	}, {
		name: "threshold 0: the note, not the severity", tables: map[string]rules.TableStats{"users": small}, small: 0,
		sql:  "CREATE INDEX users_age_idx ON users (age);",
		rule: "require-concurrent-index-creation", sev: rules.Error,
		msg: `creating index on "users" without CONCURRENTLY blocks writes to it until the build ends (users: about 10 rows, 16 kB; SHARE for under 1 ms)`,
	}, {
		name: "rows never analyzed: the rule's severity", tables: map[string]rules.TableStats{"users": unknown}, small: 10000,
		sql:  "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
		rule: "adding-field-with-default", sev: rules.Warning,
		msg: `adding column "token" to "users" with the volatile default "gen_random_uuid()": the table is rewritten under an ACCESS EXCLUSIVE lock` +
			" (users: rows unknown (never analyzed), 2.4 MB; ACCESS EXCLUSIVE for about 149 ms)",
	}, {
		name: "a table the statistics do not list is left as it is", tables: map[string]rules.TableStats{"countries": small}, small: 10000,
		sql:  "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
		rule: "adding-field-with-default", sev: rules.Warning,
		msg: `adding column "token" to "users" with the volatile default "gen_random_uuid()": the table is rewritten under an ACCESS EXCLUSIVE lock`,
	}, {
		name: "a foreign key is sized by the referencing table", tables: map[string]rules.TableStats{"users": big, "countries": small}, small: 10000,
		sql:  "ALTER TABLE users ADD COLUMN country text;\nALTER TABLE users ADD CONSTRAINT users_country_fk FOREIGN KEY (country) REFERENCES countries;",
		rule: "adding-foreign-key-constraint", sev: rules.Warning,
		msg: `adding foreign key "users_country_fk" to "users" without NOT VALID blocks writes to "users" and "countries" while every row is checked` +
			" (users: about 1.2M rows, 340 MB; SHARE ROW EXCLUSIVE for about 1.8 s)",
	}, {
		name: "schema-qualified tables and public ones written qualified", tables: map[string]rules.TableStats{"sales.orders": small, "users": big}, small: 10000,
		sql:  "ALTER TABLE sales.orders ALTER COLUMN id TYPE text;",
		rule: "changing-column-type", sev: rules.Info,
		msg: `changing the type of "sales.orders"."id" from "bigint" to "text" rewrites the table and its indexes under an ACCESS EXCLUSIVE lock` +
			" (sales.orders: about 10 rows, 16 kB; ACCESS EXCLUSIVE for under 1 ms)",
	}, {
		name: "public written out", tables: map[string]rules.TableStats{"users": big}, small: 10000,
		sql:  "VACUUM FULL public.users;",
		rule: "table-rewrite", sev: rules.Error,
		msg: `VACUUM FULL of "public.users" rewrites the table under an ACCESS EXCLUSIVE lock (users: about 1.2M rows, 340 MB; ACCESS EXCLUSIVE for about 21 s)`,
	}, {
		name: "an index build of a large table", tables: map[string]rules.TableStats{"users": big}, small: 10000,
		sql:  "ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name);",
		rule: "disallowed-unique-constraint", sev: rules.Error,
		msg: `adding unique constraint "users_name_key" to "users" builds its index under an ACCESS EXCLUSIVE lock (users: about 1.2M rows, 340 MB; ACCESS EXCLUSIVE for about 7.1 s)`,
	}, {
		name: "REINDEX INDEX is sized by the index's table", tables: map[string]rules.TableStats{"users": big}, small: 10000,
		sql:  "REINDEX INDEX users_name_idx;",
		rule: "require-concurrent-reindex", sev: rules.Warning,
		msg: `reindexing index "users_name_idx" without CONCURRENTLY blocks writes to "users" and nearly every query planned on it until the rebuild ends` +
			" (users: about 1.2M rows, 340 MB; ACCESS EXCLUSIVE for about 7.1 s)",
	}, {
		name: "a rule about waiting for the lock is not sized", tables: map[string]rules.TableStats{"users": small}, small: 10000,
		sql:  "ALTER TABLE users ADD COLUMN note text;",
		rule: "require-lock-timeout", sev: rules.Warning,
		msg: `ACCESS EXCLUSIVE lock on "users" is taken without lock_timeout: if it has to wait, all queries on the table queue behind it`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fd := finding(t, lintSized(t, rules.Config{Tables: tc.tables, SmallTableRows: tc.small}, tc.sql), tc.rule)
			if fd.Severity != tc.sev || fd.Message != tc.msg {
				t.Errorf("got %s %q\nwant %s %q", fd.Severity, fd.Message, tc.sev, tc.msg)
			}
		})
	}
}

// TestSizeAwareWithoutTables: no statistics, no change at all.
func TestSizeAwareWithoutTables(t *testing.T) {
	t.Parallel()
	const sql = "ALTER TABLE users ALTER COLUMN age TYPE bigint;\nCREATE INDEX users_age_idx ON users (age);\n"
	plain := lintSized(t, rules.Config{}, sql)
	if got := lintSized(t, rules.Config{SmallTableRows: 10000}, sql); !reflect.DeepEqual(got, plain) {
		t.Errorf("a threshold without tables changed the findings:\n%+v\n%+v", got, plain)
	}
	if got := lintSized(t, rules.Config{Tables: map[string]rules.TableStats{}, SmallTableRows: 10000}, sql); !reflect.DeepEqual(got, plain) {
		t.Errorf("an empty table list changed the findings:\n%+v\n%+v", got, plain)
	}
}

// TestSizeAwareCatalog: the rules marked size-aware are the ones whose
// findings are about how long the statement holds its table's lock.
func TestSizeAwareCatalog(t *testing.T) {
	t.Parallel()
	want := map[string]bool{
		"table-rewrite": true, "changing-column-type": true, "adding-field-with-default": true,
		"require-concurrent-index-creation": true, "constraint-missing-not-valid": true,
		"adding-foreign-key-constraint": true, "adding-not-nullable-field": true,
		"disallowed-unique-constraint": true, "require-concurrent-reindex": true,
		"ban-exclusion-constraint": true, "adding-serial-primary-key-field": true,
	}
	for _, r := range rules.All() {
		if r.SizeAware != want[r.ID] {
			t.Errorf("%s: SizeAware %v, want %v", r.ID, r.SizeAware, want[r.ID])
		}
		if r.SizeAware && r.Stmt == nil {
			t.Errorf("%s is size-aware but reports no statement", r.ID)
		}
	}
}

func TestLockEstimate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		st   rules.TableStats
		work rules.Work
		want time.Duration
	}{
		{rules.TableStats{Bytes: rules.RewriteBytesPerSecond}, rules.RewriteWork, time.Second},
		{rules.TableStats{Bytes: rules.IndexBytesPerSecond}, rules.IndexWork, time.Second},
		{rules.TableStats{Bytes: rules.ReadBytesPerSecond}, rules.ReadWork, time.Second},
		{rules.TableStats{Bytes: 60 * rules.RewriteBytesPerSecond}, rules.RewriteWork, time.Minute},
		{rules.TableStats{Bytes: 1 << 30}, rules.NoWork, 0},
		{rules.TableStats{}, rules.RewriteWork, 0},
	} {
		if got := rules.LockEstimate(tc.st, tc.work); got != tc.want {
			t.Errorf("LockEstimate(%+v, %v) = %v, want %v", tc.st, tc.work, got, tc.want)
		}
	}
}
