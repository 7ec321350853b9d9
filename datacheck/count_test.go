package datacheck

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// liveSQL is the applied migration of the counts' tests: 1000 users, of
// which 50 have no name, 30 pairs share an email, 40 have a price of 0 or
// less (and 10 none, which a CHECK lets pass), 20 a code that is not a
// number, 5 a big value past integer, 7 a note longer than 10
// characters; 500 orders, 25 of them of no user and 15 of none.
const liveSQL = `CREATE TABLE users (id bigint PRIMARY KEY, name text, email text, price numeric, code text, big bigint, note varchar(200));
INSERT INTO users
SELECT g,
       CASE WHEN g % 20 = 0 THEN NULL ELSE 'name ' || g END,
       CASE WHEN g <= 60 THEN 'dup' || ((g + 1) / 2) || '@example.com' ELSE g || '@example.com' END,
       CASE WHEN g BETWEEN 101 AND 140 THEN -g WHEN g BETWEEN 141 AND 150 THEN NULL ELSE g END,
       CASE WHEN g BETWEEN 201 AND 220 THEN 'x' || g ELSE g::text END,
       CASE WHEN g BETWEEN 301 AND 305 THEN 3000000000 + g ELSE g END,
       CASE WHEN g BETWEEN 401 AND 407 THEN 'a note longer than ten' ELSE 'short' END
FROM generate_series(1, 1000) g;
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);
INSERT INTO orders SELECT g, CASE WHEN g <= 25 THEN 100000 + g WHEN g <= 40 THEN NULL ELSE g END FROM generate_series(1, 500) g;
`

// counts applies live, then counts the checks of the pending migration.
func counts(t *testing.T, conn *pgx.Conn, live, pending string, o Options) []Result {
	t.Helper()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, live); err != nil {
		t.Fatal(err)
	}
	files := parseSet(t, "001_live.sql", live, "002_pending.sql", pending)
	return Count(ctx, conn, ForSet(files, 1, serverMajor(t, conn)), o)
}

func serverMajor(t *testing.T, conn *pgx.Conn) int {
	var v int
	if err := conn.QueryRow(context.Background(), `SELECT current_setting('server_version_num')::int / 10000`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Each kind of statement is counted exactly on the rows it fails on.
func TestCountExact(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		pending string
		rows    int64
		fails   string // the conversion's error, for a Convert check
		message string
	}{
		{"set not null", "ALTER TABLE users ALTER COLUMN name SET NOT NULL;", 50, "",
			"002_pending.sql:1 will fail: 50 rows of users have name NULL"},
		{"unique index", "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);", 60, "",
			"002_pending.sql:1 will fail: 60 rows of users share their email with another row"},
		{"unique constraint", "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);", 60, "", ""},
		{"partial unique index", "CREATE UNIQUE INDEX users_email_key ON users (email) WHERE id > 20;", 40, "", ""},
		{"unique over two columns", "ALTER TABLE users ADD UNIQUE (email, note);", 60, "", ""},
		{"unique over a column with NULLs", "CREATE UNIQUE INDEX ON users (name);", 0, "", ""},
		{"primary key", "ALTER TABLE orders DROP CONSTRAINT orders_pkey;\nALTER TABLE orders ADD PRIMARY KEY (user_id);", 15, "", ""},
		{"foreign key", "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users;", 25, "",
			"002_pending.sql:1 will fail: 25 rows of orders have user_id with no row in users"},
		{"foreign key validated", "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT fk;", 25, "", ""},
		{"check", "ALTER TABLE users ADD CONSTRAINT price_positive CHECK (price > 0);", 40, "",
			"002_pending.sql:1 will fail: 40 rows of users fail CHECK (price > 0)"},
		{"cast to a shorter varchar", "ALTER TABLE users ALTER COLUMN note TYPE varchar(10);", 7, "", ""},
		{"cast with USING", "ALTER TABLE users ALTER COLUMN code TYPE integer USING code::integer;", 0, `invalid input syntax for type integer: "x201"`,
			`002_pending.sql:1 will fail: at least one row of users fails the conversion of code to integer USING code::int: invalid input syntax for type integer: "x201"`},
		{"add column not null", "ALTER TABLE users ADD COLUMN bio text NOT NULL;", 1000, "",
			"002_pending.sql:1 will fail: 1000 rows of users would have the new column bio NULL (NOT NULL without a default)"},
		{"passes", "ALTER TABLE users ALTER COLUMN id SET NOT NULL, ALTER COLUMN email SET NOT NULL;", 0, "",
			"002_pending.sql:1: no rows of users have email NULL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			res := counts(t, conn, liveSQL, tc.pending, Options{})
			r := res[len(res)-1]
			if f := Failing(res); len(f) > 0 {
				r = f[0]
			}
			if r.Err != "" || r.Skipped != "" || r.Rows != tc.rows || r.Fails != tc.fails || r.Sampled {
				t.Fatalf("got %+v\nwant %d rows, fails %q", r, tc.rows, tc.fails)
			}
			if tc.message != "" && r.Message() != tc.message {
				t.Errorf("message\n  %s\nwant\n  %s", r.Message(), tc.message)
			}
			if got := len(Failing(res)) > 0; got != (tc.rows > 0 || tc.fails != "") {
				t.Errorf("failing %v", got)
			}
			// The count is right: the statement fails on these rows, and
			// passes once they are gone.
			_, err := conn.Exec(context.Background(), tc.pending)
			if failing := tc.rows > 0 || tc.fails != ""; failing != (err != nil) {
				t.Errorf("the statement itself: %v", err)
			}
		})
	}
}

// A cast counted with pg_input_is_valid (PostgreSQL 16+) falls back on the
// conversion on an older server, and counts exactly on a newer one.
func TestCountCast(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, liveSQL); err != nil {
		t.Fatal(err)
	}
	files := parseSet(t, "001_live.sql", liveSQL, "002_pending.sql", "ALTER TABLE users ALTER COLUMN big TYPE integer;")
	checks := ForSet(files, 1, 16)
	if len(checks) != 1 || checks[0].NeedsPG != 16 || !strings.Contains(checks[0].SQL, "pg_input_is_valid") {
		t.Fatalf("checks for 16: %+v", checks)
	}
	r := Count(ctx, conn, checks, Options{})[0]
	if serverMajor(t, conn) >= 16 {
		if r.Rows != 5 || r.Convert {
			t.Errorf("got %+v, want 5 rows counted", r)
		}
		return
	}
	if !r.Convert || r.Fails != "integer out of range" || !r.Failing() {
		t.Errorf("got %+v, want the conversion's error", r)
	}
}

// Counting the live rows where the migration's own earlier statement
// changes them would be wrong: the check is skipped, and does not fail.
func TestCountSkipsWhatTheMigrationFixes(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	res := counts(t, conn, liveSQL, "UPDATE users SET name = '' WHERE name IS NULL;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\n", Options{})
	if len(res) != 1 || res[0].Skipped != "depends on rows written by line 1" || res[0].Failing() {
		t.Fatalf("got %+v", res)
	}
	if want := "002_pending.sql:2 not checked: depends on rows written by line 1"; res[0].Message() != want {
		t.Errorf("message %q, want %q", res[0].Message(), want)
	}
}

// A big table is counted on a sample and the count scaled.
func TestCountSampled(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	live := `CREATE TABLE events (id bigint PRIMARY KEY, kind text, payload text);
INSERT INTO events SELECT g, CASE WHEN g % 20 = 0 THEN NULL ELSE 'k' END, 'payload' FROM generate_series(1, 200000) g;
ANALYZE events;`
	res := counts(t, conn, live, "ALTER TABLE events ALTER COLUMN kind SET NOT NULL;\nALTER TABLE events ADD UNIQUE (kind);\n", Options{SampleAbove: 10000})
	r := res[0]
	if !r.Sampled || r.Err != "" {
		t.Fatalf("not sampled: %+v", r)
	}
	// 10,000 NULLs, evenly spread: a sample of about 5% of the pages
	// estimates them within a few percent.
	t.Logf("estimated %d of 10000", r.Rows)
	if math.Abs(float64(r.Rows)-10000) > 2500 {
		t.Errorf("estimated %d rows, want about 10000", r.Rows)
	}
	if !strings.HasPrefix(r.Message(), "002_pending.sql:1 will fail: about ") || !strings.HasSuffix(r.Message(), " rows of events have kind NULL (sampled)") {
		t.Errorf("message %q", r.Message())
	}
	// Duplicates do not scale from a sample: they are counted exactly.
	if u := res[1]; u.Sampled || u.Rows != 190000 {
		t.Errorf("duplicates: %+v", u)
	}
	// Below the threshold, or with sampling off, the count is exact.
	exact := Count(context.Background(), conn, []Check{r.Check}, Options{})[0]
	if exact.Sampled || exact.Rows != 10000 {
		t.Errorf("exact: %+v", exact)
	}
}

// A count past its timeout (here it waits for a lock another session
// holds) is not checked, not a failure.
func TestCountTimeout(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, liveSQL); err != nil {
		t.Fatal(err)
	}
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	files := parseSet(t, "001_live.sql", liveSQL, "002_pending.sql", "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\nALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;")
	res := Count(ctx, conn, ForSet(files, 1, 15), Options{Timeout: 200 * time.Millisecond})
	if r := res[0]; !r.TimedOut || r.Failing() || r.Message() != "002_pending.sql:1 not checked: the count took longer than 200ms" {
		t.Errorf("got %+v: %s", r, r.Message())
	}
	// The next count runs on.
	if r := res[1]; r.Rows != 15 || r.Err != "" {
		t.Errorf("the count after the timeout: %+v", r)
	}
}

// Counts never write: each runs in a READ ONLY transaction, also when the
// querier is a transaction of the caller's.
func TestCountReadOnly(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id int)"); err != nil {
		t.Fatal(err)
	}
	writer := Check{Path: "x.sql", Line: 1, Table: "t", What: "rows of t have an id", SQL: "WITH w AS (INSERT INTO t VALUES (1) RETURNING 1) SELECT count(*) FROM w"}
	r := Count(ctx, conn, []Check{writer}, Options{})[0]
	if !strings.Contains(r.Err, "read-only transaction") {
		t.Errorf("a writing query ran: %+v", r)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if r := Count(ctx, tx, []Check{writer}, Options{})[0]; !strings.Contains(r.Err, "read-only transaction") {
		t.Errorf("a writing query ran in a savepoint: %+v", r)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Errorf("the caller's transaction is no longer usable: %v", err)
	}
}

// A missing table is an error of the count, not a failure.
func TestCountError(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	files := parseSet(t, "p.sql", "ALTER TABLE nope ALTER COLUMN a SET NOT NULL;")
	r := Count(context.Background(), conn, ForSet(files, 0, 15), Options{SampleAbove: 10})[0]
	if !strings.Contains(r.Err, `relation "nope" does not exist`) || r.Failing() {
		t.Errorf("got %+v", r)
	}
}

// BenchmarkCount counts NULLs, duplicates and orphans on a table of a
// million rows, exactly and sampled.
func BenchmarkCount(b *testing.B) {
	conn := pgtest.Conn(b)
	ctx := context.Background()
	live := `CREATE TABLE users (id bigint PRIMARY KEY, name text, email text);
INSERT INTO users SELECT g, CASE WHEN g % 100 = 0 THEN NULL ELSE 'n' END, 'e' || (g % 999983) FROM generate_series(1, 1000000) g;
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);
INSERT INTO orders SELECT g, g + 10 FROM generate_series(1, 1000000) g;
ANALYZE users; ANALYZE orders;`
	if _, err := conn.Exec(ctx, live); err != nil {
		b.Fatal(err)
	}
	files := parseSet(b, "001.sql", live, "002.sql", `ALTER TABLE users ALTER COLUMN name SET NOT NULL;
CREATE UNIQUE INDEX ON users (email);
ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users;`)
	checks := ForSet(files, 1, 15)
	for _, bc := range []struct {
		name   string
		sample int64
	}{{"exact", 0}, {"sampled-10k", 10000}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				for _, r := range Count(ctx, conn, checks, Options{SampleAbove: bc.sample, Timeout: time.Minute}) {
					if r.Err != "" {
						b.Fatal(r.Err)
					}
				}
			}
		})
	}
}
