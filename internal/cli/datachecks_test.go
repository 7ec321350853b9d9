package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/internal/pgtest"
)

// dataMigrations: 001 is live; 002 tightens users.name (a contract), which
// fails on the NULL rows the old color left.
var dataMigrations = map[string]string{
	"001_users.sql": "CREATE TABLE users (id bigint PRIMARY KEY, name text, email text);\n",
	"002_name.sql":  "-- bgmigrate:phase contract -- the release that always writes name is live\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\n",
}

// dataSetup returns a database where 001 is applied and users holds 50
// rows without a name and 10 with one, and the migration directory.
func dataSetup(t *testing.T) (url, dir string) {
	t.Helper()
	dir = t.TempDir()
	for name, sql := range dataMigrations {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	url = pgtest.DB(t)
	if r := run(t, "", "migrate", "expand", "--dir", dir, "--dsn", url, "--deployment", "r1"); r.code != ExitOK {
		t.Fatalf("migrate expand: %+v", r)
	}
	execLive(t, url,
		"INSERT INTO users (id) SELECT g FROM generate_series(1, 50) g",
		"INSERT INTO users (id, name) SELECT g, 'n' || g FROM generate_series(51, 60) g")
	return url, dir
}

// TestPlanDataChecks: plan counts the NULL rows exactly, says so plainly
// and exits 1; --no-data-checks and data_checks.disable turn it off; once
// the rows are fixed it passes.
func TestPlanDataChecks(t *testing.T) {
	t.Parallel()
	url, dir := dataSetup(t)
	r := run(t, "", "plan", "--dir", dir, "--dsn", url)
	want := "002_name.sql:2 will fail: 50 rows of users have name NULL"
	if r.code != ExitFindings || !strings.Contains(r.stdout, want) {
		t.Fatalf("plan: exit %d, want 1 and %q in:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if r := run(t, "", "plan", "--dir", dir, "--dsn", url, "--no-data-checks"); r.code != ExitOK || strings.Contains(r.stdout, "will fail") {
		t.Errorf("plan --no-data-checks: %+v", r)
	}
	if r := run(t, "", "plan", "--dir", dir, "--dsn", url, "--data-timeout", "0s"); r.code != ExitUsage || !strings.Contains(r.stderr, "--data-timeout 0s") {
		t.Errorf("plan --data-timeout 0s: %+v", r)
	}
	cfg := filepath.Join(t.TempDir(), ".bgmigrate.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\ndata_checks:\n  disable: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "", "plan", "--dir", dir, "--dsn", url, "--config", cfg); r.code != ExitOK {
		t.Errorf("plan with data_checks.disable: %+v", r)
	}
	// migrate refuses it the same way, before any of it runs.
	if r := run(t, "", "migrate", "all", "--dir", dir, "--dsn", url, "--force", "--reason", "test"); r.code != ExitFindings || !strings.Contains(r.stderr, want) {
		t.Errorf("migrate all: exit %d, want 1 and %q in:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	execLive(t, url, "UPDATE users SET name = 'n' || id WHERE name IS NULL")
	r = run(t, "", "plan", "--dir", dir, "--dsn", url)
	if r.code != ExitOK || !strings.Contains(r.stdout, "002_name.sql:2: no rows of users have name NULL") {
		t.Errorf("plan after the fix: %+v", r)
	}
}

// TestGateDataChecks: a contract that would fail on the live rows is a
// risk before the switch and blocks the pre-contract stage.
func TestGateDataChecks(t *testing.T) {
	t.Parallel()
	url, dir := dataSetup(t)
	decide := func(stage string) gate.Decision {
		t.Helper()
		r := runGate(t, "--stage", stage, "--dir", dir, "--dsn", url, "--old-version", "001", "--format", "json")
		var d gate.Decision
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("gate %s: %v: %+v", stage, err, r.result)
		}
		return d
	}
	data := func(d gate.Decision) []gate.Check {
		var out []gate.Check
		for _, c := range d.Checks {
			if c.Name == gate.CheckData {
				out = append(out, c)
			}
		}
		return out
	}
	want := "002_name.sql:2 will fail: 50 rows of users have name NULL"
	pre := data(decide("pre-switch"))
	if len(pre) != 1 || pre[0].Status != gate.Risk || !strings.Contains(pre[0].Reason, want) {
		t.Errorf("pre-switch data checks: %+v", pre)
	}
	d := decide("pre-contract")
	if got := data(d); d.Allow || len(got) != 1 || got[0].Status != gate.Block || !strings.Contains(got[0].Reason, want) {
		t.Errorf("pre-contract: allow %v, data checks %+v", d.Allow, got)
	}
}

// TestPlanTableSizes: the same expand migration against a 10-row and a
// 1,000,000-row table: on the small one its rewrite finding is info and
// the plan passes; on the large one it is an error with the table's size,
// and the plan refuses it.
func TestPlanTableSizes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, sql := range map[string]string{
		"0001_accounts.sql": sizeMigrations["0001_accounts.sql"],
		"0002_token.sql":    "ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		rows     int
		code     int
		severity string
		note     string
	}{
		{"10 rows", 10, ExitOK, "info", "(accounts: about 10 rows, "},
		{"1,000,000 rows", 1_000_000, ExitFindings, "error", "(accounts: about 1M rows, "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, "", "plan", "--dir", dir, "--dsn", sizeDB(t, tc.rows))
			line := "0002_token.sql:1:1: " + tc.severity + ": "
			if r.code != tc.code || !strings.Contains(r.stdout, line) || !strings.Contains(r.stdout, tc.note) || !strings.Contains(r.stdout, "ACCESS EXCLUSIVE for about") {
				t.Errorf("plan: exit %d, want %d and %q with %q in:\n%s%s", r.code, tc.code, line, tc.note, r.stdout, r.stderr)
			}
		})
	}
}
