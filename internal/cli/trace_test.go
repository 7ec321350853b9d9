package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/trace"
	"github.com/jackc/pgx/v5"
)

func traceDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, sql := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// scratchDatabases counts the scratch databases on the test server.
func scratchDatabases(t *testing.T) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_database WHERE datname LIKE 'bgmigrate_gate_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTraceCommand traces a migration on the test server: locks, rewrites
// and scans beside lint's prediction, in JSON; the scratch database is
// gone afterwards and the server's own database untouched.
func TestTraceCommand(t *testing.T) {
	dir := traceDir(t, map[string]string{
		"0001_orders.sql": "CREATE TABLE trace_orders (id bigint PRIMARY KEY, total numeric(10,2), note text);\n",
		"0002_change.sql": "ALTER TABLE trace_orders ADD COLUMN region text;\n" +
			"ALTER TABLE trace_orders ALTER COLUMN total TYPE numeric(12,2);\n" +
			"ALTER TABLE trace_orders ALTER COLUMN note TYPE integer USING length(note);\n" +
			"CREATE INDEX trace_orders_region_idx ON trace_orders (region);\n" +
			"CREATE INDEX CONCURRENTLY trace_orders_note_idx ON trace_orders (note);\n" +
			"CREATE ROLE trace_someone;\n",
	})
	before := scratchDatabases(t)
	r := run(t, "", "trace", "--dir", dir, "--dev-url", pgtest.AdminURL(t), "--format", "json", "--rows", "500", filepath.Join(dir, "0002_change.sql"))
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	var res trace.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || len(res.Files[0].Statements) != 6 {
		t.Fatalf("traced %+v", res.Files)
	}
	st := res.Files[0].Statements
	check := func(i int, lock string, rewritten, scanned bool) {
		t.Helper()
		s := st[i]
		if s.Error != "" || s.Agrees == nil || !*s.Agrees {
			t.Errorf("line %d: %+v", s.Line, s)
		}
		if len(s.Locks) == 0 && lock != "" || len(s.Locks) > 0 && s.Locks[0].Mode != lock {
			t.Errorf("line %d: locks %+v, want %s", s.Line, s.Locks, lock)
		}
		if (len(s.Rewritten) > 0) != rewritten || (len(s.Scanned) > 0) != scanned {
			t.Errorf("line %d: rewritten %v scanned %v", s.Line, s.Rewritten, s.Scanned)
		}
	}
	check(0, "ACCESS EXCLUSIVE", false, false) // a nullable column: catalog only
	check(1, "ACCESS EXCLUSIVE", false, false) // numeric precision raised: binary-compatible
	check(2, "ACCESS EXCLUSIVE", true, true)   // a rewrite
	check(3, "SHARE", false, true)             // an index build reads the table
	if s := st[4]; s.Observed != "sampled" || s.Error != "" {
		t.Errorf("CONCURRENTLY: %+v", s)
	}
	if s := st[5]; s.Skipped == "" {
		t.Errorf("CREATE ROLE was run: %+v", s)
	}
	if after := scratchDatabases(t); after != before {
		t.Errorf("%d scratch databases before, %d after", before, after)
	}
	conn, err := pgx.Connect(context.Background(), pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var tables, roles int
	_ = conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_class WHERE relname = 'trace_orders'`).Scan(&tables)
	_ = conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_roles WHERE rolname = 'trace_someone'`).Scan(&roles)
	if tables != 0 || roles != 0 {
		t.Errorf("the dev server's own database got %d tables, %d roles", tables, roles)
	}

	// Text, and a disagreement: an index dropped IF EXISTS that the
	// history never made is predicted to lock its table.
	dir = traceDir(t, map[string]string{"0001_x.sql": "CREATE TABLE trace_x (id int);\nDROP INDEX IF EXISTS trace_nothing_idx;\n"})
	r = run(t, "", "trace", "--dir", dir, "--dev-url", pgtest.AdminURL(t))
	if r.code != ExitOK || !strings.Contains(r.stdout, "1 disagree") || !strings.Contains(r.stdout, "DISAGREES: lock: predicted ACCESS EXCLUSIVE, took none") {
		t.Errorf("text: exit %d\n%s", r.code, r.stdout)
	}
	if r = run(t, "", "trace", "--dir", dir, "--dev-url", pgtest.AdminURL(t), "--fail-on-disagreement"); r.code != ExitFindings {
		t.Errorf("--fail-on-disagreement: exit %d", r.code)
	}
	for _, args := range [][]string{
		{"trace", "--dir", dir},
		{"trace", "--dir", dir, "--dev-url", pgtest.AdminURL(t), "--format", "xml"},
		{"trace", "--dir", dir, "--dev-url", pgtest.AdminURL(t), "nope.sql"},
		{"trace", "--dir", dir, "--dev-url", "postgres://nobody@127.0.0.1:1/x"},
	} {
		if r := run(t, "", args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
}

// TestTraceInterrupted: a trace stopped with SIGTERM while a statement
// runs drops its scratch database; one killed dead leaves it, and the
// next run drops it.
func TestTraceInterrupted(t *testing.T) {
	dir := traceDir(t, map[string]string{"0001_slow.sql": "CREATE TABLE trace_slow (id int);\nSELECT pg_sleep(60);\n"})
	before := scratchDatabases(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		cmd := exec.Command(os.Args[0], "trace", "--dir", dir, "--dev-url", pgtest.AdminURL(t))
		cmd.Env = append(os.Environ(), mainEnv+"=1")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		for sc.Scan() && !strings.HasPrefix(sc.Text(), "tracing ") {
		}
		time.Sleep(300 * time.Millisecond) // into pg_sleep
		if scratchDatabases(t) != before+1 {
			t.Fatalf("no scratch database while tracing")
		}
		_ = cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: trace did not stop", sig)
		}
		switch sig {
		case syscall.SIGTERM:
			if n := scratchDatabases(t); n != before {
				t.Errorf("after SIGTERM: %d scratch databases, want %d", n, before)
			}
		case syscall.SIGKILL:
			if scratchDatabases(t) != before+1 {
				t.Fatalf("after SIGKILL the scratch database is gone already?")
			}
			// The server notices the dead session; the next run drops what it left.
			deadline := time.Now().Add(20 * time.Second)
			for {
				dir2 := traceDir(t, map[string]string{"0001_y.sql": "CREATE TABLE trace_y (id int);\n"})
				if r := run(t, "", "trace", "--dir", dir2, "--dev-url", pgtest.AdminURL(t)); r.code != ExitOK {
					t.Fatalf("next run: exit %d %s", r.code, r.stderr)
				}
				if scratchDatabases(t) == before || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			if n := scratchDatabases(t); n != before {
				t.Errorf("the next run left %d scratch databases, want %d", n, before)
			}
		}
	}
}
