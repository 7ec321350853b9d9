package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// splitDir writes a migration folder: a deployed schema and the change.
func splitDir(t *testing.T, change string) (dir, file string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	schema := "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL DEFAULT '', serial_no bigint GENERATED ALWAYS AS IDENTITY);\nCREATE INDEX users_name_idx ON users (name);\n"
	if err := os.WriteFile(filepath.Join(dir, "0001_users.sql"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(dir, "0002_change.sql")
	if err := os.WriteFile(file, []byte(change), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

func TestSplitCommand(t *testing.T) {
	t.Parallel()
	dir, file := splitDir(t, "ALTER TABLE users RENAME COLUMN name TO full_name;\n")
	r := run(t, "", "split", file)
	if r.code != ExitOK || !strings.Contains(r.stdout, "(expand, replaces the original)") || !strings.Contains(r.stdout, "0006_change_validate_full_name.sql (contract, new file)") ||
		!strings.Contains(r.stdout, "run with --write") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	before, _ := os.ReadFile(file)
	if string(before) != "ALTER TABLE users RENAME COLUMN name TO full_name;\n" {
		t.Fatal("split without --write changed the file")
	}

	r = run(t, "", "split", "--format", "json", file)
	var out splitJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != ExitOK || !out.Changed || out.Written || len(out.Files) != 5 || len(out.Notes) != 1 {
		t.Fatalf("json: %v, exit %d: %s", err, r.code, r.stdout)
	}

	r = run(t, "", "split", "--write", file)
	if r.code != ExitOK {
		t.Fatalf("--write: exit %d %s", r.code, r.stderr)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := "0001_users.sql 0002_change.sql 0003_change_backfill_full_name.sql 0004_change_index_full_name.sql 0005_change_drop_name.sql 0006_change_validate_full_name.sql"
	if strings.Join(names, " ") != want {
		t.Errorf("files %v, want %s", names, want)
	}
	// What it wrote lints clean and in the planned phases.
	r = run(t, "", "lint", "--format", "json", dir)
	if r.code != ExitOK || strings.Contains(r.stdout, `"class":"breaking"`) || strings.Contains(r.stdout, `"class":"mixed"`) {
		t.Errorf("lint of the split: exit %d\n%s", r.code, r.stdout)
	}
	// A second split of the replaced file has nothing left to do.
	r = run(t, "", "split", file)
	if r.code != ExitOK || !strings.Contains(r.stdout, "nothing to split") {
		t.Errorf("second split: exit %d\n%s", r.code, r.stdout)
	}
}

func TestSplitRefusals(t *testing.T) {
	t.Parallel()
	_, file := splitDir(t, "ALTER TABLE users RENAME COLUMN serial_no TO number;\n")
	r := run(t, "", "split", "--write", file)
	if r.code != ExitFindings || !strings.Contains(r.stdout, "0002_change.sql:1: cannot split ALTER TABLE users RENAME COLUMN serial_no TO number: ") ||
		!strings.Contains(r.stdout, "nothing written") {
		t.Errorf("exit %d\n%s", r.code, r.stdout)
	}
	if data, _ := os.ReadFile(file); string(data) != "ALTER TABLE users RENAME COLUMN serial_no TO number;\n" {
		t.Error("a refused split wrote the file")
	}
	for _, args := range [][]string{
		{"split", "--fill", "nodot=1", file},
		{"split", "--format", "yaml", file},
		{"split", filepath.Join(filepath.Dir(file), "missing.sql")},
		{"split", filepath.Dir(file)},
	} {
		if r := run(t, "", args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2: %s", args, r.code, r.stderr)
		}
	}
}
