package twocolor_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/internal/twocolor"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// The harness must see what it is there to see: each test below applies
// a change that does break one of the proof's conditions, unsplit, and
// checks that the Result says so.

func shortConfig(t *testing.T) twocolor.Config {
	return twocolor.Config{
		URL: pgtest.DB(t), ExpectURL: pgtest.DB(t), Dir: t.TempDir(),
		Rows: 500, Warmup: 200 * time.Millisecond, Window: time.Second, Tail: 200 * time.Millisecond,
	}
}

func mustRun(t *testing.T, k twocolor.Kind) *twocolor.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := twocolor.Run(ctx, k, twocolor.Unsplit, shortConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// unsynced is a change that adds the new release's column and nothing
// that keeps it equal to the old one's.
func unsynced() twocolor.Kind {
	return twocolor.Kind{
		Name:      "unsynced",
		Schema:    "CREATE TABLE t (id bigint PRIMARY KEY, a text NOT NULL DEFAULT '');\n",
		Seed:      "INSERT INTO t (id, a) SELECT g, 's' || g FROM generate_series(1, %[1]d) g;",
		Migration: "ALTER TABLE t ADD COLUMN b text;\n",
		Old: twocolor.Color{
			Insert: "INSERT INTO t (id, a) VALUES ($1, $2)", Update: "UPDATE t SET a = $2 WHERE id = $1",
			Delete: "DELETE FROM t WHERE id = $1", Read: "SELECT a FROM t WHERE id = $1", ReadAll: "SELECT id, a FROM t",
		},
		New: twocolor.Color{
			Insert: "INSERT INTO t (id, b) VALUES ($1, $2)", Update: "UPDATE t SET b = $2 WHERE id = $1",
			Delete: "DELETE FROM t WHERE id = $1", Read: "SELECT b FROM t WHERE id = $1", ReadAll: "SELECT id, b FROM t",
		},
	}
}

func TestSeesLostWrites(t *testing.T) {
	t.Parallel()
	res := mustRun(t, unsynced())
	if res.New.Anomalies == 0 || res.Old.Anomalies == 0 {
		t.Errorf("anomalies: old %d, new %d; want both > 0 (each color misses the other's writes)", res.Old.Anomalies, res.New.Anomalies)
	}
	if res.Window.Mismatched == 0 {
		t.Errorf("row check at the end of the window found no difference: %+v", res.Window)
	}
	if !hasProblem(res, "lost or unseen writes") || !hasProblem(res, "rows differ") {
		t.Errorf("problems do not name the lost writes:\n%s", strings.Join(res.Problems(), "\n"))
	}
	if res.Failures() == 0 {
		t.Error("Failures() = 0")
	}
}

func TestSeesStalls(t *testing.T) {
	t.Parallel()
	k := unsynced()
	k.Name = "stall"
	k.New = k.Old
	// ACCESS EXCLUSIVE held for 2.5s: every write waits behind it.
	k.Migration = "BEGIN;\nLOCK TABLE t IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(2.5);\nCOMMIT;\n"
	res := mustRun(t, k)
	// A lower bound: no write can end before the lock is released.
	if res.Old.MaxWrite < 2400*time.Millisecond {
		t.Errorf("worst write %s, want at least the 2.5s the lock was held", twocolor.Dur(res.Old.MaxWrite))
	}
	if !hasProblem(res, "over lock_timeout + 100ms") {
		t.Errorf("problems do not name the stall:\n%s", strings.Join(res.Problems(), "\n"))
	}
}

func TestSeesFailedStatements(t *testing.T) {
	t.Parallel()
	k, _ := twocolor.KindByName("rename_column")
	res := mustRun(t, k)
	if res.Old.Failed == 0 || res.New.Failed != 0 {
		t.Errorf("failed: old %d, new %d; want old > 0, new 0", res.Old.Failed, res.New.Failed)
	}
	if len(res.Old.Errors) == 0 || !strings.Contains(res.Old.Errors[0].Message, `column "name"`) {
		t.Errorf("old color's errors: %+v", res.Old.Errors)
	}
	if !strings.Contains(res.Window.Err, "old color cannot read the rows") {
		t.Errorf("row check: %+v", res.Window)
	}
	if len(res.SchemaDiff) != 0 {
		t.Errorf("the migration applied as written differs from itself: %v", res.SchemaDiff)
	}
}

func TestRefusesAnotherHost(t *testing.T) {
	t.Parallel()
	k, _ := twocolor.KindByName("rename_column")
	cfg := twocolor.Config{URL: "postgres://app@192.0.2.1:5432/app", ExpectURL: "postgres://app@127.0.0.1:1/app", Dir: t.TempDir()}
	if _, err := twocolor.Run(context.Background(), k, twocolor.Split, cfg); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("err = %v, want a refusal of the non-loopback host", err)
	}
}

func TestPgrollWithoutBinaryIsSkipped(t *testing.T) {
	t.Parallel()
	k, _ := twocolor.KindByName("rename_column")
	res, err := twocolor.Run(context.Background(), k, twocolor.Pgroll, twocolor.Config{Dir: t.TempDir()})
	if err != nil || res.Skipped == "" || len(res.Problems()) != 0 {
		t.Fatalf("res = %+v, err = %v; want a skipped run", res, err)
	}
}

// TestKinds checks the catalog of kinds as data: every kind names its
// statements, says what pgroll does, and counts what its fix is for.
func TestKinds(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range twocolor.Kinds() {
		if seen[k.Name] || k.Name == "" || k.Title == "" {
			t.Errorf("kind %q: empty or duplicate name or title", k.Name)
		}
		seen[k.Name] = true
		for _, c := range []twocolor.Color{k.Old, k.New} {
			if c.Insert == "" || c.Update == "" || c.Delete == "" || c.Read == "" || c.ReadAll == "" {
				t.Errorf("kind %q: a color lacks a statement: %+v", k.Name, c)
			}
		}
		if (k.Pgroll == "") == (k.PgrollNone == "") {
			t.Errorf("kind %q: give either a pgroll migration or why there is none", k.Name)
		}
		if (len(k.Fix) == 0) != (k.Violations == "") {
			t.Errorf("kind %q: a fix needs the count of what it fixes, and the other way round", k.Name)
		}
		if !strings.Contains(k.Seed, "%[1]d") {
			t.Errorf("kind %q: the seed does not use the row count", k.Name)
		}
	}
}

func hasProblem(res *twocolor.Result, s string) bool {
	for _, p := range res.Problems() {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}
