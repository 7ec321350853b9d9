package live

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
)

// queryMigrations writes and loads a migration folder.
func queryMigrations(t *testing.T, files ...string) []*runner.Migration {
	t.Helper()
	dir := t.TempDir()
	for i, sql := range files {
		name := filepath.Join(dir, fmt.Sprintf("%03d_m.sql", i+1))
		if err := os.WriteFile(name, []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	migs, err := runner.LoadWith(context.Background(), runner.LoadOptions{Dirs: []string{dir}, Rules: rules.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	return migs
}

const queriesSchema = `CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, total numeric NOT NULL);
CREATE FUNCTION order_total(bigint) RETURNS numeric LANGUAGE sql AS $$ SELECT total FROM orders WHERE id = $1 $$;
`

func queries(sqls ...string) []gate.Query {
	var out []gate.Query
	for i, s := range sqls {
		out = append(out, gate.Query{Source: fmt.Sprintf("q.sql:%d", i+1), SQL: s})
	}
	return out
}

func TestCheckQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := pgtest.AdminURL(t)
	old := queries(
		"SELECT name, total FROM users JOIN orders ON orders.user_id = users.id WHERE users.id = $1",
		"SELECT * FROM users WHERE id = $1",
		"SELECT order_total($1)",
		"SELECT email FROM users WHERE id = $1",
		"SELECT nosuchcolumn FROM users",
	)
	migs := queryMigrations(t,
		queriesSchema,
		"ALTER TABLE orders ADD COLUMN name text;\n",                                                            // 002: ambiguous join
		"ALTER TABLE users ADD COLUMN created_at timestamptz;\n",                                                // 003: SELECT * changes
		"CREATE TABLE audit (id bigint PRIMARY KEY, note text);\n",                                              // 004: harmless
		"-- bgmigrate:phase contract -- release 2 computes totals itself\nDROP FUNCTION order_total(bigint);\n", // 005
	)
	rep, err := CheckQueries(ctx, QueryOptions{DevURL: admin, Migrations: migs, Old: old,
		New:  queries("SELECT id, created_at FROM users", "SELECT order_total(1)", "SELECT id FROM audit"),
		Base: []int{0}, Meet: []int{1, 2, 3}, Contract: []int{4}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OldNotPrepared != 1 {
		t.Errorf("not prepared on the old schema: %d, want 1 (the query of a missing column)", rep.OldNotPrepared)
	}
	byQuery := map[string]gate.QueryFailure{}
	for _, f := range rep.OldFailures {
		byQuery[f.Query.SQL] = f
	}
	if f, ok := byQuery[old[0].SQL]; !ok || !strings.Contains(f.Error, `column reference "name" is ambiguous`) || !strings.HasPrefix(f.Migration, "002 ") {
		t.Errorf("ambiguous join: %+v", f)
	}
	if f, ok := byQuery[old[1].SQL]; !ok || !f.ResultChanged || !strings.Contains(f.Error, `a new column "created_at"`) || !strings.HasPrefix(f.Migration, "003 ") {
		t.Errorf("SELECT *: %+v", f)
	}
	if _, ok := byQuery[old[3].SQL]; ok || len(rep.OldFailures) != 2 {
		t.Errorf("a working query failed, or too many failures: %+v", rep.OldFailures)
	}
	if len(rep.OldAfterContract) != 1 || rep.OldAfterContract[0].Query.SQL != old[2].SQL || !strings.HasPrefix(rep.OldAfterContract[0].Migration, "005 ") ||
		!strings.Contains(rep.OldAfterContract[0].Error, "function order_total(") {
		t.Errorf("dropped function: %+v", rep.OldAfterContract)
	}
	if len(rep.NewFailures) != 1 || rep.NewFailures[0].Query.SQL != "SELECT order_total(1)" || rep.NewFailures[0].Schema != "after the contract migrations" {
		t.Errorf("new color: %+v", rep.NewFailures)
	}

	// The decision: the switch blocks on the old color's failures, naming
	// query, error and migration.
	d := gate.Evaluate(gate.Input{Stage: gate.PreSwitch, Queries: rep})
	var reasons []string
	for _, c := range d.Checks {
		if c.Name == gate.CheckQueriesOld || c.Name == gate.CheckQueriesNew {
			reasons = append(reasons, string(c.Status)+" "+c.Reason)
		}
	}
	all := strings.Join(reasons, "\n")
	for _, want := range []string{`block the old color's query "SELECT name, total FROM users JOIN orders`, `since migration 002`,
		`cached plan must not change result type`, `block the new color's query "SELECT order_total(1)"`} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in\n%s", want, all)
		}
	}
}

// TestCheckQueriesHarmless: an expand that keeps every query working
// allows.
func TestCheckQueriesHarmless(t *testing.T) {
	t.Parallel()
	migs := queryMigrations(t, queriesSchema,
		"ALTER TABLE users ADD COLUMN nickname text;\nCREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);\n")
	old := queries("SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = $1",
		"UPDATE users SET email = $2 WHERE id = $1", "INSERT INTO orders (id, user_id, total) VALUES ($1, $2, $3) RETURNING id")
	rep, err := CheckQueries(context.Background(), QueryOptions{DevURL: pgtest.AdminURL(t), Migrations: migs, Old: old, New: old,
		Base: []int{0}, Meet: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	d := gate.Evaluate(gate.Input{Stage: gate.PreSwitch, Queries: rep})
	for _, c := range d.Checks {
		if (c.Name == gate.CheckQueriesOld || c.Name == gate.CheckQueriesNew) && c.Status != gate.Pass {
			t.Errorf("%s: %s", c.Status, c.Reason)
		}
	}
	if rep.Old != 3 || rep.New != 3 || rep.OldNotPrepared != 0 {
		t.Errorf("report %+v", rep)
	}
}

// TestReadQueries reads a file of queries and the queries a workload ran
// from pg_stat_statements.
func TestReadQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	file := "-- name: GetUser :one\nSELECT * FROM users WHERE id = $1;\nCREATE TABLE x (id int);\nSET search_path = app;\n" +
		"UPDATE users SET name = $2 WHERE id = $1;\nWITH t AS (SELECT 1) SELECT * FROM t;\n"
	if err := os.WriteFile(filepath.Join(dir, "q.sql"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadQueries(ctx, nil, "q.sql", dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Source != "q.sql:2" || got[1].Source != "q.sql:5" {
		t.Errorf("file: %+v", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.sql"), []byte("SELECT 1;\nSELEC 2;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadQueries(ctx, nil, "bad.sql", dir); err == nil || !strings.Contains(err.Error(), "bad.sql:2:1") {
		t.Errorf("a syntax error: %v", err)
	}

	conn := pgtest.Conn(t)
	for _, q := range []string{"CREATE EXTENSION IF NOT EXISTS pg_stat_statements", queriesSchema} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i := 0; i < 3; i++ {
		if _, err := conn.Exec(ctx, "SELECT name FROM users WHERE id = $1 AND email IS NOT NULL", i); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "UPDATE orders SET total = total + $1 WHERE user_id = $2", i, i); err != nil {
			t.Fatal(err)
		}
	}
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	got, err = ReadQueries(ctx, conn, "pg_stat_statements?database="+db, "")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, q := range got {
		texts = append(texts, q.SQL)
	}
	joined := strings.Join(texts, "\n")
	if !strings.Contains(joined, "SELECT name FROM users WHERE id = $1 AND email IS NOT NULL") || !strings.Contains(joined, "UPDATE orders SET total = total + $1 WHERE user_id = $2") ||
		strings.Contains(joined, "CREATE TABLE") {
		t.Errorf("pg_stat_statements gave:\n%s", joined)
	}
	if _, err := ReadQueries(ctx, conn, "pg_stat_statements?colour=blue", ""); err == nil {
		t.Error("an unknown filter was accepted")
	}
}
