package runner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/runner"
)

// A file run statement by statement that failed part way and was then
// edited is not resumed past statements that never ran in their new form:
// the rerun is refused, nothing more runs and nothing is recorded. An
// edit of a statement that had not run yet resumes as before.
func TestEditedAfterPartialApply(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	conn := connect(t, url)
	dir := writeMigrations(t, map[string]string{
		"001_t.sql": "CREATE TABLE t (id int PRIMARY KEY, a int, b int);\nINSERT INTO t SELECT g, g, g % 2 FROM generate_series(1, 10) g;\n",
	})
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	// The second index fails: its column does not exist.
	writeFile(t, dir, "002_idx.sql", "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nCREATE INDEX CONCURRENTLY t_c_idx ON t (c);\n")
	var se *runner.StatementError
	if _, err := migrate(t, conn, dir, runner.Options{}); !errors.As(err, &se) || se.Line != 2 {
		t.Fatalf("first run: %v, want the second index to fail at line 2", err)
	}
	// The statement that ran changes: refused.
	writeFile(t, dir, "002_idx.sql", "CREATE INDEX CONCURRENTLY t_a_idx ON t (a, id);\nCREATE INDEX CONCURRENTLY t_b_idx ON t (b);\n")
	_, err := migrate(t, conn, dir, runner.Options{})
	var pc *runner.PartialChangeError
	if !errors.As(err, &pc) || pc.Unit != 1 || !strings.Contains(err.Error(), "002_idx.sql:1: migration 002 was applied part way and changed since") {
		t.Fatalf("rerun after editing a statement that ran: %v", err)
	}
	if got := history(t, conn); strings.Join(got, " ") != "001:expand" {
		t.Fatalf("history %v after the refusal", got)
	}
	if scalar[bool](t, conn, "SELECT to_regclass('t_b_idx') IS NOT NULL") {
		t.Fatal("the edited file ran on")
	}
	// Back as it was, with only the statement that did not run changed:
	// the rerun resumes and records the file.
	writeFile(t, dir, "002_idx.sql", "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nCREATE INDEX CONCURRENTLY t_b_idx ON t (b);\n")
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := history(t, conn); strings.Join(got, " ") != "001:expand 002:expand" {
		t.Fatalf("history %v", got)
	}
	if def := scalar[string](t, conn, "SELECT pg_get_indexdef('t_a_idx'::regclass)"); !strings.HasSuffix(def, "(a)") {
		t.Fatalf("t_a_idx is %s, want the index built once on (a)", def)
	}
}

// An INVALID index left by a failed concurrent build is dropped and built
// again when its table is outside search_path and its name is quoted in
// mixed case.
func TestInvalidIndexOutsideSearchPath(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	conn := connect(t, url)
	dir := writeMigrations(t, map[string]string{
		"001_t.sql": "CREATE SCHEMA app;\nCREATE TABLE app.t (id int PRIMARY KEY, v int);\nINSERT INTO app.t SELECT g, g % 3 FROM generate_series(1, 30) g;\n",
	})
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	// A unique index on existing columns is a contract step.
	force := runner.Options{Force: true, Reason: "test"}
	writeFile(t, dir, "002_idx.sql", "CREATE UNIQUE INDEX CONCURRENTLY \"T_V_Key\" ON app.t (v);\n")
	if _, err := migrate(t, conn, dir, force); err == nil {
		t.Fatal("the unique index over duplicates did not fail")
	}
	if scalar[bool](t, conn, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'app."T_V_Key"'::regclass`) {
		t.Fatal("no INVALID index left by the failed build")
	}
	if _, err := conn.Exec(context.Background(), "UPDATE app.t SET v = id"); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	force.Log = &log
	if _, err := migrate(t, conn, dir, force); err != nil {
		t.Fatalf("rerun: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), `index "app"."T_V_Key" is INVALID`) {
		t.Errorf("the rerun did not say it rebuilt the index:\n%s", log.String())
	}
	if !scalar[bool](t, conn, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'app."T_V_Key"'::regclass`) {
		t.Error("the rebuilt index is not valid")
	}
}

// A file that sets lock_timeout itself (as lint's advice for other runners
// says): the runner's --lock-timeout still applies, the SET is left out
// and said so, and the statement that waited is the one reported, with
// its blocker.
func TestFileSetsLockTimeout(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	conn := connect(t, url)
	dir := writeMigrations(t, map[string]string{"001_t.sql": "CREATE TABLE t (id int PRIMARY KEY);\n"})
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	blocker := connect(t, url)
	tx, err := blocker.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(context.Background(), "SELECT count(*) FROM t"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "002_col.sql", "SET lock_timeout = '5s';\nSET statement_timeout = 0;\nALTER TABLE t ADD COLUMN v int;\n")
	var log bytes.Buffer
	start := time.Now()
	_, err = migrate(t, conn, dir, runner.Options{LockTimeout: 150 * time.Millisecond, Retries: 1, Backoff: 50 * time.Millisecond, Log: &log})
	took := time.Since(start)
	var lt *runner.LockTimeoutError
	if !errors.As(err, &lt) || lt.Line != 3 {
		t.Fatalf("got %v, want a lock timeout at line 3 (the ALTER, not the SET)", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("blocked by pid %d", blocker.PgConn().PID())) {
		t.Errorf("the blocker is not named: %v", err)
	}
	if took > 3*time.Second {
		t.Errorf("the run took %s: the file's 5s lock_timeout won over --lock-timeout 150ms", took)
	}
	for _, want := range []string{"002_col.sql:1: SET lock_timeout = '5s' is not run", "002_col.sql:2: SET statement_timeout = 0 is not run", "002_col.sql:3 lock not granted within 150ms", "blocked by pid"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}
