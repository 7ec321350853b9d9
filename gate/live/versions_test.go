package live

import (
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/runner"
)

func TestEvaluateDefaultVersions(t *testing.T) {
	t.Parallel()
	migs := []*runner.Migration{{Version: "001"}, {Version: "002"}, {Version: "003"}}
	hist := func(deps ...string) []runner.Applied {
		var out []runner.Applied
		for i, d := range deps {
			out = append(out, runner.Applied{Version: migs[i].Version, Deployment: d})
		}
		return out
	}
	cases := []struct {
		name           string
		hist           []runner.Applied
		oldIn, newIn   string
		oldOut, newOut string
		err            string
	}{
		{"empty history", nil, "", "", "", "003", ""},
		{"last run told apart by deployment", hist("r1", "r2", "r2"), "", "", "001", "003", ""},
		{"everything in one run", hist("r1", "r1"), "", "", "", "003", ""},
		{"no deployment ids", hist("", ""), "", "", "", "", "pass --old-version"},
		{"flags", hist("", ""), "002", "002", "002", "002", ""},
		{"none", hist("", ""), "none", "", "", "003", ""},
		{"unknown old", nil, "009", "", "", "", `old version "009": not a migration`},
		{"unknown new", nil, "", "009", "", "", `new version "009": not a migration`},
	}
	for _, tc := range cases {
		oldV, newV, err := DefaultVersions(migs, tc.hist, tc.oldIn, tc.newIn)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case oldV != tc.oldOut || newV != tc.newOut:
			t.Errorf("%s: versions %q, %q; want %q, %q", tc.name, oldV, newV, tc.oldOut, tc.newOut)
		}
	}
}
