package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
)

// TestGateQueries: the old color's queries, from a file, prepared at the
// schema it will meet: the expand that makes a join ambiguous blocks,
// naming the query, the error and the migration; queries that keep
// working allow, and the count of checked queries is reported.
func TestGateQueries(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	dir := t.TempDir()
	for name, sql := range map[string]string{
		"001_users.sql": "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric);\n",
		"002_email.sql": "ALTER TABLE orders ADD COLUMN email text;\n",
		"003_notes.sql": "CREATE TABLE notes (id bigint PRIMARY KEY, body text);\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	applyLive(t, url, dir, 3)
	qdir := t.TempDir()
	ok := filepath.Join(qdir, "ok.sql")
	bad := filepath.Join(qdir, "bad.sql")
	if err := os.WriteFile(ok, []byte("SELECT email FROM users WHERE id = $1;\nUPDATE users SET email = $2 WHERE id = $1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("SELECT email FROM users WHERE id = $1;\nSELECT email, total FROM users JOIN orders ON orders.user_id = users.id;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--dir", dir, "--dsn", url, "--dev-url", pgtest.AdminURL(t), "--old-version", "001"}
	r := runGate(t, append(args, "--queries", ok)...)
	if r.code != ExitOK || !strings.Contains(r.stdout, "pass  queries-old-color") || !strings.Contains(r.stdout, "2 queries of the old color prepare") {
		t.Errorf("harmless: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runGate(t, append(args, "--queries", bad)...)
	if r.code != ExitFindings || !strings.Contains(r.stdout, `block queries-old-color`) ||
		!strings.Contains(r.stdout, `column reference "email" is ambiguous`) || !strings.Contains(r.stdout, "since migration 002 (") ||
		!strings.Contains(r.stdout, "bad.sql:2") {
		t.Errorf("ambiguous: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runGate(t, append(args, "--queries", filepath.Join(qdir, "missing.sql"))...)
	if r.code != ExitUsage {
		t.Errorf("a missing queries file: exit %d", r.code)
	}
}
