package trace_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/trace"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

const (
	casesDir = "../testdata/migrations"
	known    = "testdata/known_differences.txt"
)

// TestPredictionsAgree traces every statement of testdata/migrations (the
// rules' cases and the phase cases) on real PostgreSQL and compares lint's
// prediction of each (lock, rewrite, scan) with what the server did. A
// disagreement fails the test unless known_differences.txt lists it with
// its reason; a listed one that agrees now fails it too, so the list
// stays true. The agreement per rule is logged (and written to
// $BGMIGRATE_TRACE_SUMMARY when set).
func TestPredictionsAgree(t *testing.T) {
	ctx := context.Background()
	admin := pgtest.AdminURL(t)
	listed := readKnown(t)
	entries, err := os.ReadDir(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	type tally struct{ judged, agree, notJudged int }
	perRule := map[string]*tally{}
	seen := map[string]bool{}
	var total tally
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(casesDir, e.Name())
		migs, err := runner.LoadWith(ctx, runner.LoadOptions{Dirs: []string{dir}, Rules: rules.Config{PGVersion: 15}})
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		res, err := trace.Run(ctx, migs, func(int) bool { return true }, trace.Options{DevURL: admin})
		if err != nil {
			t.Fatalf("trace %s: %v", dir, err)
		}
		tl := &tally{}
		perRule[e.Name()] = tl
		for _, f := range res.Files {
			for _, st := range f.Statements {
				key := fmt.Sprintf("%s/%s:%d", e.Name(), filepath.Base(f.Path), st.Line)
				switch {
				case st.Agrees == nil:
					tl.notJudged++
				case *st.Agrees:
					tl.judged++
					tl.agree++
					if reason, ok := listed[key]; ok && !strings.HasPrefix(reason, sometimes) {
						t.Errorf("%s is listed in %s but agrees now: remove it", key, known)
					}
				default:
					tl.judged++
					seen[key] = true
					if _, ok := listed[key]; !ok {
						t.Errorf("%s: %s: %s", key, firstLine(st.SQL), strings.Join(st.Differences, "; "))
					}
				}
			}
		}
		total.judged += tl.judged
		total.agree += tl.agree
		total.notJudged += tl.notJudged
	}
	for key := range listed {
		if !seen[key] && !strings.HasPrefix(key, "#") {
			if _, err := os.Stat(filepath.Join(casesDir, strings.Split(key, ":")[0])); err != nil {
				t.Errorf("%s lists %s, which is not a case any more", known, key)
			}
		}
	}
	var names []string
	for n := range perRule {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "trace agreement on PostgreSQL %d: %d of %d judged statements agree (%.1f%%), %d known differences, %d not judged (failed on purpose, not run, or not seen)\n",
		pgtest.ServerVersion(t)/10000, total.agree, total.judged, 100*float64(total.agree)/float64(max(total.judged, 1)), len(seen), total.notJudged)
	for _, n := range names {
		tl := perRule[n]
		if tl.judged == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %-45s %3d/%3d\n", n, tl.agree, tl.judged)
	}
	t.Log(b.String())
	if p := os.Getenv("BGMIGRATE_TRACE_SUMMARY"); p != "" {
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// sometimes starts the reason of a difference the trace sees only when a
// sample of a statement outside a transaction falls in the right moment:
// that line may agree too.
const sometimes = "sometimes:"

// readKnown reads "case/file.sql:LINE reason" lines.
func readKnown(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(known)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			t.Errorf("%s: %s has no reason", known, key)
		}
		out[key] = reason
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
