package lint

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/ci"
	"github.com/bgmigrate/bgmigrate/rules"
)

// TestCorpus lints every file of the shared corpus of real migrations: no
// panic, no hang, and every finding well-formed. It logs the counts that
// bench/lint/compare.sh sets beside Squawk's.
func TestCorpus(t *testing.T) {
	const dir = "../../shared/corpus"
	if _, err := os.Stat(dir); err != nil {
		ci.Unavailable(t, "the shared corpus (%s) is not present: %v", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Options{Paths: []string{dir}, Rules: rules.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) < 3000 {
		t.Fatalf("only %d files linted", len(res.Files))
	}
	perRule := map[string]int{}
	syntax := 0
	for _, f := range res.Files {
		for _, fd := range f.Findings {
			if fd.Span.Start.Line < 1 || fd.Span.Start.Column < 1 || fd.Span.End.Offset < fd.Span.Start.Offset || fd.Span.End.Offset > len(f.File.Src) {
				t.Errorf("%s: bad span %+v for %s", f.File.Path, fd.Span, fd.Rule)
			}
			if rules.ByID(fd.Rule) == nil {
				t.Errorf("%s: finding of unknown rule %q", f.File.Path, fd.Rule)
			}
			perRule[fd.Rule]++
			if fd.Rule == "syntax-error" {
				syntax++
			}
		}
		for _, s := range f.Top {
			if span := f.Span(s); span.End.Offset > len(f.File.Src) || span.Start.Offset > span.End.Offset {
				t.Errorf("%s: bad statement span %+v", f.File.Path, span)
			}
		}
	}
	ids := make([]string, 0, len(perRule))
	total := 0
	for id, n := range perRule {
		ids = append(ids, id)
		total += n
	}
	sort.Slice(ids, func(i, j int) bool { return perRule[ids[i]] > perRule[ids[j]] })
	t.Logf("%d files, %d findings (%.2f per file), %d syntax errors", len(res.Files), total, float64(total)/float64(len(res.Files)), syntax)
	for _, id := range ids {
		t.Logf("  %-45s %6d", id, perRule[id])
	}
}
