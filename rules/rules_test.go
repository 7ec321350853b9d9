package rules_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/rules"
)

const casesDir = "../testdata/migrations"

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	wantComment = regexp.MustCompile(`--\s*want:\s*([a-z0-9, -]+)`)
	classNote   = regexp.MustCompile(`--\s*class:\s*([a-z]+)`)
	fileClass   = regexp.MustCompile(`--\s*file-class:\s*([a-z]+)`)
)

// TestCatalog validates the rule catalog itself.
func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range rules.All() {
		if !idPattern.MatchString(r.ID) {
			t.Errorf("rule id %q is not lower-case-dashed", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("rule %q is listed twice", r.ID)
		}
		seen[r.ID] = true
		if r.Summary == "" || r.Help == "" || len(r.Doc) < 200 || r.Severity == 0 || r.Since == "" {
			t.Errorf("rule %q lacks a summary, help, a real doc (≥200 chars), a severity or since", r.ID)
		}
		if strings.HasSuffix(r.Summary, ".") || strings.HasSuffix(r.Help, ".") {
			t.Errorf("rule %q: summary and help end without a period", r.ID)
		}
		if r.Stmt == nil && r.File == nil && !driverRule[r.ID] {
			t.Errorf("rule %q has no check", r.ID)
		}
		if rules.ByID(r.ID) != r {
			t.Errorf("ByID(%q) does not return the rule", r.ID)
		}
		dir := filepath.Join(casesDir, r.ID)
		wants, files := countWants(t, dir, r.ID)
		if files == 0 {
			t.Errorf("rule %q has no cases in %s", r.ID, dir)
		} else if wants == 0 {
			t.Errorf("rule %q has no positive case (-- want: %s) in %s", r.ID, r.ID, dir)
		}
	}
	entries, err := os.ReadDir(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), "_") && !seen[e.Name()] {
			t.Errorf("testdata folder %q names no rule", e.Name())
		}
	}
}

// driverRule are rules reported by the driver rather than a hook.
var driverRule = map[string]bool{"syntax-error": true, "invalid-directive": true, "unused-directive": true}

func countWants(t *testing.T, dir, id string) (wants, files int) {
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".sql") {
			return nil
		}
		files++
		data, _ := os.ReadFile(p)
		for _, m := range wantComment.FindAllStringSubmatch(string(data), -1) {
			for _, w := range splitIDs(m[1]) {
				if w == id {
					wants++
				}
			}
		}
		return nil
	})
	return wants, files
}

func splitIDs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// TestRuleCases runs each rule over its folder: every finding must be
// wanted on its line, and every want must be found.
func TestRuleCases(t *testing.T) {
	for _, r := range rules.All() {
		r := r
		t.Run(r.ID, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(casesDir, r.ID)
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("no cases (reported by TestCatalog)")
			}
			rel := readRelease(t, dir)
			cfg := rules.Config{Only: []string{r.ID}, PGVersion: pgVersion(t, dir)}
			if rel != nil {
				cfg.Releases = rel.releases
			}
			runner, err := rules.NewRunner(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			want := map[string]int{}
			for _, res := range lintDirRelease(t, runner, dir, rel) {
				for _, f := range res.Findings {
					if f.Suppressed == nil {
						got[fmt.Sprintf("%s:%d: %s", f.Path, f.Span.Start.Line, f.Rule)]++
					}
				}
				for i, line := range strings.Split(res.File.Src, "\n") {
					for _, m := range wantComment.FindAllStringSubmatch(line, -1) {
						for _, id := range splitIDs(m[1]) {
							want[fmt.Sprintf("%s:%d: %s", res.File.Path, i+1, id)]++
						}
					}
				}
			}
			compare(t, got, want)
		})
	}
}

// release describes a case folder linted as a release: its RELEASE file
// holds lines "release FILE" (added in the release), "modified FILE"
// (released earlier, then edited) and "stopped_using NAME".
type release struct {
	inRelease, modified map[string]bool
	releases            []rules.Release
}

func readRelease(t *testing.T, dir string) *release {
	data, err := os.ReadFile(filepath.Join(dir, "RELEASE"))
	if err != nil {
		return nil
	}
	r := &release{inRelease: map[string]bool{}, modified: map[string]bool{}}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case "release":
			r.inRelease[f[1]] = true
		case "modified":
			r.modified[f[1]] = true
		case "stopped_using":
			r.releases = append(r.releases, rules.Release{Name: "earlier", StoppedUsing: []string{f[1]}})
		default:
			t.Fatalf("%s/RELEASE: unknown line %q", dir, line)
		}
	}
	return r
}

// pgVersion reads the PostgreSQL version a case folder is linted for from
// its PG_VERSION file (default 15); a folder may hold sub-folders with
// their own versions.
func pgVersion(t *testing.T, dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, "PG_VERSION"))
	if err != nil {
		return 15
	}
	var v int
	if _, err := fmt.Sscan(string(data), &v); err != nil {
		t.Fatalf("%s/PG_VERSION: %v", dir, err)
	}
	return v
}

func lintDir(t *testing.T, runner *rules.Runner, dir string) []*rules.FileResult {
	return lintDirRelease(t, runner, dir, nil)
}

func lintDirRelease(t *testing.T, runner *rules.Runner, dir string, rel *release) []*rules.FileResult {
	t.Helper()
	sets, err := parser.Collect([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var out []*rules.FileResult
	for _, s := range sets {
		var files []*parser.File
		for _, p := range s.Files {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, parser.Parse(p, data, parser.SideOptions(p)))
		}
		if rel == nil {
			out = append(out, runner.RunSet(files)...)
			continue
		}
		infos := make([]rules.FileInfo, len(files))
		for i, f := range files {
			base := filepath.Base(f.Path)
			infos[i] = rules.FileInfo{InRelease: rel.inRelease[base], Modified: rel.modified[base], Report: true}
		}
		out = append(out, runner.RunRelease(files, infos)...)
	}
	return out
}

func compare(t *testing.T, got, want map[string]int) {
	t.Helper()
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case got[k] > want[k]:
			t.Errorf("unexpected finding %s (x%d)", k, got[k]-want[k])
		case got[k] < want[k]:
			t.Errorf("missing finding %s (x%d)", k, want[k]-got[k])
		}
	}
}

// TestPhaseCases checks the class of every top-level statement of the files
// in _phases: each statement's first line says "-- class: <class>".
func TestPhaseCases(t *testing.T) {
	runner, err := rules.NewRunner(rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	results := lintDir(t, runner, filepath.Join(casesDir, "_phases"))
	if len(results) == 0 {
		t.Fatal("no phase cases")
	}
	for _, res := range results {
		lines := strings.Split(res.File.Src, "\n")
		for _, s := range res.Stmts {
			if s.Parent != nil {
				continue
			}
			line := lines[s.Span.Start.Line-1]
			m := classNote.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("%s:%d: statement has no -- class: note", res.File.Path, s.Span.Start.Line)
				continue
			}
			if s.Class.String() != m[1] {
				t.Errorf("%s:%d: class %s, want %s (%s)", res.File.Path, s.Span.Start.Line, s.Class, m[1], s.Info.Reason)
			}
		}
		if m := fileClass.FindStringSubmatch(res.File.Src); m != nil && res.Class.String() != m[1] {
			t.Errorf("%s: file class %s, want %s", res.File.Path, res.Class, m[1])
		}
	}
}
