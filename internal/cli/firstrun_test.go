package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README's first run lints examples/shop. Its console blocks that
// follow firstRunMarker are run here and must print what the README shows;
// go test ./internal/cli -run TestREADMEFirstRun -update rewrites them.
const (
	readmePath     = "../../README.md"
	repoRoot       = "../../"
	firstRunMarker = "<!-- checked by TestREADMEFirstRun: the output below is what the command prints -->"
)

func TestREADMEFirstRun(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	var out []string // the README with each block's output as it is now
	checked := 0
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if strings.TrimSpace(lines[i]) != firstRunMarker {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			t.Fatalf("README.md:%d: the marker is not followed by a fenced block", i+1)
		}
		i++
		out = append(out, lines[i])
		for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "```") {
			i++
			cmd, ok := strings.CutPrefix(lines[i], "$ ")
			if !ok {
				t.Fatalf("README.md:%d: a checked block holds commands (\"$ bgmigrate ...\") and their output, not %q", i+1, lines[i])
			}
			line := i + 1
			var want strings.Builder
			for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "```") && !strings.HasPrefix(lines[i+1], "$ ") {
				i++
				want.WriteString(lines[i])
			}
			got := runFromRoot(t, strings.TrimSpace(cmd))
			if got != want.String() {
				t.Errorf("README.md:%d: %s prints (run go test ./internal/cli -run TestREADMEFirstRun -update to accept):\n%s", line, strings.TrimSpace(cmd), got)
			}
			out = append(out, lines[line-1], got)
			checked++
		}
	}
	if checked == 0 {
		t.Fatalf("README.md has no block after %q", firstRunMarker)
	}
	if *update {
		if err := os.WriteFile(readmePath, []byte(strings.Join(out, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runFromRoot runs a README command line ("bgmigrate lint examples/...") as
// if from the repository's root, and returns its standard output.
func runFromRoot(t *testing.T, cmdline string) string {
	t.Helper()
	args := strings.Fields(cmdline)
	if len(args) == 0 || args[0] != "bgmigrate" {
		t.Fatalf("%q: a checked command runs bgmigrate", cmdline)
	}
	args = args[1:]
	for i, a := range args {
		if strings.HasPrefix(a, "examples/") {
			args[i] = repoRoot + a
		}
	}
	r := run(t, "", args...)
	if r.stderr != "" {
		t.Errorf("%s: stderr: %s", cmdline, r.stderr)
	}
	return strings.ReplaceAll(r.stdout, repoRoot+"examples/", "examples/")
}

// TestShopSplit keeps examples/shop true: the migrations of
// examples/shop/migrations that replace the rename of before-split are what
// bgmigrate split --write makes of it today.
func TestShopSplit(t *testing.T) {
	t.Parallel()
	const (
		before = repoRoot + "examples/shop/before-split"
		after  = repoRoot + "examples/shop/migrations"
		rename = "0003_rename_customers_name.up.sql"
	)
	dir := t.TempDir()
	entries, err := os.ReadDir(before)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(before, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		// The migrations before the rename are the same in both folders.
		if e.Name() != rename {
			a, err := os.ReadFile(filepath.Join(after, e.Name()))
			if err != nil || string(a) != string(b) {
				t.Errorf("%s differs from %s/%s (or is missing there)", e.Name(), after, e.Name())
			}
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r := run(t, "", "split", "--write", filepath.Join(dir, rename)); r.code != ExitOK {
		t.Fatalf("split: exit code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	written, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range written {
		got, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(after, e.Name())
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("split writes %s, which examples/shop/migrations lacks (run go test ./internal/cli -run TestShopSplit -update)", e.Name())
			continue
		}
		if string(got) != string(want) {
			t.Errorf("split writes %s differently (run go test ./internal/cli -run TestShopSplit -update to accept):\n%s", e.Name(), got)
		}
	}
}
