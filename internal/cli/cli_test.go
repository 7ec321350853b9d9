package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/rules"
)

var update = flag.Bool("update", false, "rewrite golden files")

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (run go test ./internal/cli -update to accept):\n--- got\n%s", path, got)
	}
}

func TestLintGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"lint_text.golden", []string{"lint", "testdata/release"}, ExitFindings},
		{"lint_json.golden", []string{"lint", "--format", "json", "testdata/release"}, ExitFindings},
		{"lint_failon_none.golden", []string{"lint", "--fail-on", "none", "--quiet", "testdata/release"}, ExitOK},
	} {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, "", tc.args...)
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", r.code, tc.code, r.stderr)
			}
			golden(t, tc.name, r.stdout)
		})
	}
}

func TestLintJSONShape(t *testing.T) {
	t.Parallel()
	r := run(t, "", "lint", "--format", "json", "testdata/release")
	var doc struct {
		Files []struct {
			Path, Format, Class string
			Statements          []struct {
				Line, Column  int
				Class, Lock   string
				Rewrite, Scan bool
			}
			Findings []struct {
				Rule, Severity, Message, Help    string
				Line, Column, EndLine, EndColumn int
			} `json:"findings"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(doc.Files) == 0 {
		t.Fatal("no files in JSON output")
	}
	for _, f := range doc.Files {
		if f.Path == "" || f.Format == "" || f.Class == "" || len(f.Statements) == 0 {
			t.Errorf("incomplete file entry %+v", f)
		}
		for _, fd := range f.Findings {
			if fd.Line < 1 || fd.Column < 1 || fd.Rule == "" || fd.Message == "" || rules.ByID(fd.Rule) == nil {
				t.Errorf("%s: bad finding %+v", f.Path, fd)
			}
		}
	}
}

func TestLintExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"clean file", "", []string{"lint", "testdata/release/0001_create_users.up.sql"}, ExitOK, ""},
		{"warnings below fail level", "ALTER TABLE t ADD COLUMN a int;\n", []string{"lint", "-", "--stdin-filename", "x.sql"}, ExitOK, ""},
		{"warnings at fail level", "ALTER TABLE t ADD COLUMN a int;\n", []string{"lint", "--fail-on", "warning", "-"}, ExitFindings, ""},
		{"syntax error fails", "ALTER TABLE t ADD COLUMN;\n", []string{"lint", "-"}, ExitFindings, ""},
		{"no path", "", []string{"lint"}, ExitUsage, "at least one path"},
		{"missing file", "", []string{"lint", "testdata/nope.sql"}, ExitUsage, "testdata/nope.sql"},
		{"unknown flag", "", []string{"lint", "--bogus", "x"}, ExitUsage, "unknown flag"},
		{"unknown rule", "", []string{"lint", "--rules", "no-such-rule", "testdata/release"}, ExitUsage, `unknown rule "no-such-rule"`},
		{"bad fail-on", "", []string{"lint", "--fail-on", "sometimes", "testdata/release"}, ExitUsage, "--fail-on"},
		{"bad tool", "", []string{"lint", "--tool", "rails", "testdata/release"}, ExitUsage, "--tool"},
		{"unknown explain", "", []string{"explain", "nope"}, ExitUsage, `unknown rule "nope"`},
	} {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d; stdout: %s stderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tc.stderr)
			}
		})
	}
}

func TestStdinFilename(t *testing.T) {
	t.Parallel()
	r := run(t, "-- +goose Up\nCREATE INDEX i ON t (a);\n-- +goose Down\nDROP INDEX i;\n", "lint", "--format", "json", "-", "--stdin-filename", "db/0001_idx.sql")
	if !strings.Contains(r.stdout, `"path":"db/0001_idx.sql"`) || !strings.Contains(r.stdout, `"format":"goose"`) {
		t.Errorf("stdin file not named or format not detected:\n%s", r.stdout)
	}
	if strings.Count(r.stdout, `"tag":"DROP INDEX"`) != 0 {
		t.Errorf("the down part was linted:\n%s", r.stdout)
	}
}

func TestRulesAndExplain(t *testing.T) {
	t.Parallel()
	r := run(t, "", "rules")
	if r.code != ExitOK {
		t.Fatalf("rules exit %d: %s", r.code, r.stderr)
	}
	for _, rule := range rules.All() {
		if !strings.Contains(r.stdout, rule.ID) {
			t.Errorf("rules does not list %q", rule.ID)
		}
	}
	e := run(t, "", "explain", "ban-drop-column")
	if e.code != ExitOK || !strings.Contains(e.stdout, "# ban-drop-column") || !strings.Contains(e.stdout, "```sql") {
		t.Errorf("explain output lacks the doc:\n%s", e.stdout)
	}
}

func TestNoColorWhenNotATerminal(t *testing.T) {
	t.Parallel()
	r := run(t, "CREATE INDEX i ON t (a);\n", "lint", "-")
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("colour codes written to a non-terminal:\n%q", r.stdout)
	}
	s := &IOStreams{Out: &bytes.Buffer{}, Env: func(k string) string { return map[string]string{"NO_COLOR": "1"}[k] }}
	if s.ColorEnabled() {
		t.Error("NO_COLOR not honoured")
	}
}

// TestGeneratedDocs fails when a document generated from the code is
// stale.
func TestGeneratedDocs(t *testing.T) {
	t.Parallel()
	for name, render := range map[string]func() string{"rules.md": RulesMarkdown, "classes.md": ClassesMarkdown} {
		path := filepath.Join("..", "..", "docs", name)
		got := render()
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil || string(want) != got {
			t.Errorf("docs/%s is stale: run go test ./internal/cli -run TestGeneratedDocs -update", name)
		}
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "version: 1\nrulez:\n  disable: [ban-drop-column]\n", `bad.yaml:2:1: unknown key "rulez"`},
		{"unknown rule", "version: 1\nrules:\n  disable: [ban-drop-colum]\n", `bad.yaml:3:13`},
		{"wrong type", "version: 1\npg_version: fifteen\n", `bad.yaml:2:13`},
	} {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			r := run(t, "", "lint", "--config", path, "testdata/release")
			if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

func TestConfigAppliesAndFlagsWin(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cfg.yaml")
	cfg := "version: 1\nfail_on: none\nrules:\n  disable: [renaming-column]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "lint", "--config", path, "--format", "json", "testdata/release")
	if r.code != ExitOK || strings.Contains(r.stdout, `"renaming-column"`) {
		t.Errorf("config not applied: exit %d, renaming-column reported: %v", r.code, strings.Contains(r.stdout, `"renaming-column"`))
	}
	r = run(t, "", "lint", "--config", path, "--fail-on", "error", "testdata/release")
	if r.code != ExitFindings {
		t.Errorf("--fail-on error did not beat fail_on: none (exit %d)", r.code)
	}
}

// TestExitCodes: the one mapping from the kinds of error to exit codes,
// wrapped or not.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"a refusal", refused(errors.New("deploy refused")), ExitFindings},
		{"findings printed already", errFindings, ExitFindings},
		{"a wrapped refusal", fmt.Errorf("contract: %w", refused(errors.New("blocked"))), ExitFindings},
		{"a usage error", usageError("unknown format %q", "xml"), ExitUsage},
		{"a wrapped usage error", fmt.Errorf("config: %w", usage(errors.New("bad key"))), ExitUsage},
		{"an error of neither kind", errors.New("unknown command"), ExitUsage},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
	if r := run(t, "", "lint", "--no-such-flag"); r.code != ExitUsage || !strings.Contains(r.stderr, "--no-such-flag") {
		t.Errorf("unknown flag: %+v", r)
	}
}
