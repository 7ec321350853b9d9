package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
)

func migrationsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"001_users.sql": "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text, legacy text);\n",
		"002_bio.sql":   "ALTER TABLE users ADD COLUMN bio text;\nCREATE INDEX CONCURRENTLY users_bio_idx ON users (bio);\n",
		"003_drop.sql":  "-- bgmigrate:phase contract -- release 2 stopped reading legacy\nALTER TABLE users DROP COLUMN legacy;\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMigrateCommands(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	dir := migrationsDir(t)
	steps := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"plan", "--dir", dir, "--dsn", url}, ExitOK, "before the switch (expand):\n  " + dir + "/001_users.sql", ""},
		{[]string{"migrate", "expand", "--dir", dir, "--dsn", url}, ExitOK, "2 migrations applied; 1 contract migrations wait", "applying " + dir + "/002_bio.sql (expand)"},
		{[]string{"status", "--dir", dir, "--dsn", url}, ExitOK, "contract migrations: waiting", ""},
		{[]string{"migrate", "contract", "--dir", dir, "--dsn", url}, ExitFindings, "", "refusing to apply contract migrations"},
		{[]string{"retire", "--dsn", url, "--color", "blue"}, ExitOK, "old color retired", ""},
		{[]string{"migrate", "contract", "--dir", dir, "--dsn", url}, ExitOK, "1 migrations applied", ""},
		{[]string{"status", "--dir", dir, "--dsn", url}, ExitOK, "pending (0):", ""},
	}
	for _, s := range steps {
		r := run(t, "", s.args...)
		if r.code != s.code || !strings.Contains(r.stdout, s.stdout) || !strings.Contains(r.stderr, s.stderr) {
			t.Fatalf("bgmigrate %s: exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout ~ %q, stderr ~ %q",
				strings.Join(s.args, " "), r.code, s.code, r.stdout, r.stderr, s.stdout, s.stderr)
		}
	}
}

func TestMigrateDryRunNeedsNoDatabase(t *testing.T) {
	t.Parallel()
	dir := migrationsDir(t)
	r := run(t, "", "migrate", "all", "--dry-run", "--dir", dir)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"in one transaction:", "alone, outside a transaction:", "SHARE UPDATE EXCLUSIVE on users", "after the old color is retired (contract):"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDSNPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	dir := migrationsDir(t)
	r := run(t, "", "migrate", "expand", "--dir", dir, "--dsn", "postgres://app:s3cr3t@127.0.0.1:1/db?connect_timeout=2")
	if r.code != ExitUsage {
		t.Errorf("exit %d, want %d", r.code, ExitUsage)
	}
	if strings.Contains(r.stderr+r.stdout, "s3cr3t") || !strings.Contains(r.stderr, "xxxxx") {
		t.Errorf("password shown or not masked: %s", r.stderr)
	}
}
