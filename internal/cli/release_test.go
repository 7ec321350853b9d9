package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestChangedSince builds a throwaway git repository with two commits of
// migrations and lints the second as the release: only its files are
// reported, the first commit's still feed the schema, and a contract on a
// column added in the same release is reported.
func TestChangedSince(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed: %v", err)
	}
	dir := t.TempDir()
	gitRun := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, "db", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitRun("init", "-q")
	write("0001_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n")
	write("0002_orders.up.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n")
	gitRun("add", ".")
	gitRun("commit", "-q", "-m", "release 1")
	gitRun("tag", "v1")
	// The release: one new migration adds a column, the next one already
	// makes it NOT NULL; an index on a table of the first release must be
	// built concurrently (the schema of release 1 is known).
	write("0003_locale.up.sql", "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN locale text;\n")
	write("0004_locale_required.up.sql", "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN locale SET NOT NULL;\n")
	write("0005_index.up.sql", "CREATE INDEX orders_user_id_idx ON orders (user_id);\n")
	gitRun("add", ".")
	gitRun("commit", "-q", "-m", "release 2")
	// And an edit of a released migration, not committed yet.
	write("0002_orders.up.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, note text);\n")

	t.Chdir(dir)
	r := run(t, "", "lint", "--format", "json", "--changed-since", "v1", "db")
	if r.code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", r.code, ExitFindings, r.stderr)
	}
	var doc struct {
		Files []struct {
			Path     string
			Findings []struct{ Rule string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, r.stdout)
	}
	got := map[string][]string{}
	for _, f := range doc.Files {
		got[f.Path] = nil
		for _, fd := range f.Findings {
			got[f.Path] = append(got[f.Path], fd.Rule)
		}
	}
	if _, ok := got["db/0001_users.up.sql"]; ok {
		t.Errorf("a file of the released commit was reported: %v", got)
	}
	for _, p := range []string{"db/0002_orders.up.sql", "db/0003_locale.up.sql", "db/0004_locale_required.up.sql", "db/0005_index.up.sql"} {
		if _, ok := got[p]; !ok {
			t.Errorf("%s not reported; got %v", p, got)
		}
	}
	has := func(path, rule string) bool {
		for _, r := range got[path] {
			if r == rule {
				return true
			}
		}
		return false
	}
	if !has("db/0004_locale_required.up.sql", "contract-too-early") {
		t.Errorf("contract on a column added in the same release not reported: %v", got["db/0004_locale_required.up.sql"])
	}
	if !has("db/0005_index.up.sql", "require-concurrent-index-creation") {
		t.Errorf("the released schema did not feed the lint (orders is not new): %v", got["db/0005_index.up.sql"])
	}
	if !has("db/0002_orders.up.sql", "modified-released-migration") {
		t.Errorf("edited released migration not reported: %v", got["db/0002_orders.up.sql"])
	}
	if bad := run(t, "", "lint", "--changed-since", "no-such-ref", "db"); bad.code != ExitUsage || !strings.Contains(bad.stderr, "no-such-ref") {
		t.Errorf("bad ref: exit %d, stderr %q", bad.code, bad.stderr)
	}
}
