package split_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/internal/twocolor"
)

// proofConfig keeps a run to about three seconds: 2,000 rows, 250
// operations a second per color, two seconds of both colors together.
func proofConfig(t *testing.T) twocolor.Config {
	return twocolor.Config{
		URL:       pgtest.DB(t),
		ExpectURL: pgtest.DB(t),
		Dir:       t.TempDir(),
		Rows:      2000,
		Rate:      250,
		Warmup:    300 * time.Millisecond,
		Window:    2 * time.Second,
		Tail:      500 * time.Millisecond,
	}
}

// TestProof runs each statement kind through the two-color harness
// against real PostgreSQL. Split, while the old color and then both colors
// run: (1) no statement of either color fails before the contract, and
// none of the new color after it; (2) no update is lost: every row reads
// the same through both colors, and as last written, at the end of the
// two-color window and after the contract; (3) no write takes longer than
// lock_timeout + 100ms; (4) the final catalog is the breaking migration's
// applied as written (for a type change, modulo the new column's name,
// c_new for c). The same change applied unsplit while the old color runs
// must fail one of them.
func TestProof(t *testing.T) {
	var mu sync.Mutex
	results := map[string][]*twocolor.Result{}
	kinds := twocolor.Kinds()
	t.Cleanup(func() {
		var all []*twocolor.Result
		for _, k := range kinds {
			all = append(all, results[k.Name]...)
		}
		var b strings.Builder
		twocolor.WriteTable(&b, all)
		t.Logf("two-color runs:\n%s", b.String())
	})
	for _, k := range kinds {
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			split := runTwoColor(t, k, twocolor.Split)
			unsplit := runTwoColor(t, k, twocolor.Unsplit)
			mu.Lock()
			results[k.Name] = []*twocolor.Result{split, unsplit}
			mu.Unlock()

			t.Logf("split: old color %.0f operations/s, new color %.0f/s; %s", split.Old.Rate, split.New.Rate, split.SchemaNote)
			if problems := split.Problems(); len(problems) > 0 {
				for _, p := range problems {
					t.Errorf("split: %s", p)
				}
				for _, f := range split.Files {
					t.Logf("split wrote %s (%s):\n%s", f.Path, f.Phase, f.Content)
				}
			}
			if unsplit.Failures() == 0 {
				t.Errorf("unsplit: %q applied while both colors run showed no failure: the workload does not exercise what the split prevents", strings.TrimSpace(k.Migration))
			}
		})
	}
}

func runTwoColor(t *testing.T, k twocolor.Kind, mode twocolor.Mode) *twocolor.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := twocolor.Run(ctx, k, mode, proofConfig(t))
	if err != nil {
		t.Fatalf("%s: %v", mode, err)
	}
	return res
}
