package split

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/schema"
)

// PlanFile plans the split of the migration at path: the earlier
// migrations of its set are replayed first (as lint replays them), and the
// plan's migrations are named for the set's tool.
func PlanFile(path string, opts Options) (*Plan, []File, error) {
	clean := filepath.ToSlash(filepath.Clean(path))
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: not a regular file", path)
	}
	sets, err := parser.Collect([]string{filepath.FromSlash(parser.SetDir(clean))})
	if err != nil {
		return nil, nil, err
	}
	var set *parser.Set
	at := -1
	for _, s := range sets {
		for i, f := range s.Files {
			if f == clean {
				set, at = s, i
			}
		}
	}
	if set == nil {
		return nil, nil, fmt.Errorf("%s: not a migration of its folder (a down migration, or another database's?)", path)
	}
	cat := schema.New()
	var versions []string
	for i, p := range set.Files[:at] {
		f, err := parseFile(p)
		if err != nil {
			return nil, nil, err
		}
		versions = append(versions, f.Version)
		cat.BeginFile(i+1, false)
		Replay(cat, f.Statements)
	}
	for _, p := range set.Files[at+1:] {
		f, err := parseFile(p)
		if err != nil {
			return nil, nil, err
		}
		versions = append(versions, f.Version)
	}
	src, err := parseFile(clean)
	if err != nil {
		return nil, nil, err
	}
	cat.BeginFile(at+1, false)
	plan := Split(src, cat, opts)
	if !plan.Changed || len(plan.Problems) > 0 {
		return plan, nil, nil
	}
	files, err := Files(plan, src, versions)
	return plan, files, err
}

func parseFile(p string) (*parser.File, error) {
	data, err := os.ReadFile(filepath.FromSlash(p))
	if err != nil {
		return nil, err
	}
	return parser.Parse(p, data, parser.SideOptions(p)), nil
}

// Replay records statements in the catalog as the migrations run them: the
// bodies of DO blocks and of the functions they call first.
func Replay(cat *schema.Catalog, stmts []*parser.Statement) {
	replay(cat, stmts, 0)
}

func replay(cat *schema.Catalog, stmts []*parser.Statement, depth int) {
	for _, st := range stmts {
		if depth < 3 {
			replay(cat, cat.Runs(st), depth+1)
		}
		if _, isDo := st.Node.(*parser.Do); !isDo {
			cat.Apply(st)
		}
	}
}
