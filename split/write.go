package split

import (
	"fmt"
	"math/big"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

// A File is a migration file of a plan, named and annotated for its tool.
type File struct {
	Path    string
	Content string
	Phase   phases.Class
	// Replaces is set for the file that takes the source file's place.
	Replaces bool
	// Extra are files beside it the tool reads (diesel's metadata.toml).
	Extra map[string]string
}

var (
	flywayFile  = regexp.MustCompile(`^([VB])([0-9][0-9._]*)__(.+)\.sql$`)
	leadingNum  = regexp.MustCompile(`^([0-9]+)(_|-)?(.*)$`)
	dieselDir   = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{6}|[0-9]+)_?(.*)$`)
	timestamp14 = "20060102150405"
	dieselTime  = "2006-01-02-150405"
)

// Files names the plan's migrations as the set's tool does. The first
// takes the source file's place; the others take the next free versions
// after every version in versions (the set's), in the source's directory.
func Files(plan *Plan, src *parser.File, versions []string) ([]File, error) {
	if len(plan.Migrations) == 0 {
		return nil, nil
	}
	namer, err := newNamer(src, versions)
	if err != nil {
		return nil, err
	}
	out := make([]File, 0, len(plan.Migrations))
	for i, m := range plan.Migrations {
		f := File{Phase: m.Phase, Replaces: i == 0}
		if i == 0 {
			f.Path = src.Path
		} else {
			f.Path = namer.next(m.Name)
		}
		f.Content = content(src.Format, m, path.Base(src.Path))
		if src.Format == parser.FormatDiesel && m.NoTransaction {
			f.Extra = map[string]string{path.Join(path.Dir(f.Path), "metadata.toml"): "run_in_transaction = false\n"}
		}
		out = append(out, f)
	}
	return out, nil
}

// content annotates a migration's SQL for its tool.
func content(format parser.Format, m Migration, source string) string {
	var b strings.Builder
	header := fmt.Sprintf("-- %s migration split from %s by bgmigrate split.\n", m.Phase, source)
	directive := ""
	if m.Phase == phases.Contract {
		why := m.Why
		if why == "" {
			why = "it removes or tightens what the old color uses"
		}
		directive = "-- bgmigrate:phase contract -- " + oneLine(why) + "\n"
	}
	switch format {
	case parser.FormatGoose:
		if m.NoTransaction {
			b.WriteString("-- +goose NO TRANSACTION\n")
		}
		b.WriteString("-- +goose Up\n")
		b.WriteString(header)
		b.WriteString(directive)
		// One block: goose would split a function body at its semicolons.
		b.WriteString("-- +goose StatementBegin\n")
		b.WriteString(m.SQL)
		b.WriteString("-- +goose StatementEnd\n")
	case parser.FormatDbmate:
		b.WriteString("-- migrate:up")
		if m.NoTransaction {
			b.WriteString(" transaction:false")
		}
		b.WriteString("\n")
		b.WriteString(header)
		b.WriteString(directive)
		b.WriteString(m.SQL)
		b.WriteString("\n-- migrate:down\n")
	case parser.FormatPlain:
		b.WriteString(header)
		b.WriteString(directive)
		if m.Atomic {
			// Whatever runs a plain file, the two commit together.
			b.WriteString("BEGIN;\n" + m.SQL + "COMMIT;\n")
		} else {
			b.WriteString(m.SQL)
		}
	default:
		b.WriteString(header)
		b.WriteString(directive)
		b.WriteString(m.SQL)
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// namer hands out the next free versions of the source's scheme.
type namer struct {
	format parser.Format
	dir    string // where new files go
	desc   string // the source's description
	ext    string // ".sql", ".up.sql"
	kind   string // "number", "timestamp", "diesel-time", "flyway"
	width  int
	last   *big.Int  // numbers
	when   time.Time // timestamps
	flyway []string  // the highest Flyway version, by parts
	sep    string    // Flyway's separator ("." or "_")
	prefix string    // Flyway's V or B
	used   map[string]bool
}

func newNamer(src *parser.File, versions []string) (*namer, error) {
	base := path.Base(src.Path)
	n := &namer{format: src.Format, dir: path.Dir(src.Path), used: map[string]bool{}}
	var version string
	switch src.Format {
	case parser.FormatDiesel, parser.FormatPrisma:
		dir := path.Base(n.dir)
		n.dir = path.Dir(n.dir)
		m := dieselDir.FindStringSubmatch(dir)
		if m == nil {
			return nil, fmt.Errorf("%s: the folder %q has no version to follow", src.Path, dir)
		}
		version, n.desc = m[1], m[2]
	case parser.FormatFlyway:
		m := flywayFile.FindStringSubmatch(base)
		if m == nil {
			return nil, fmt.Errorf("%s: not a Flyway versioned migration (V<version>__<name>.sql)", src.Path)
		}
		n.prefix, version, n.desc, n.ext, n.kind = m[1], m[2], m[3], ".sql", "flyway"
	default:
		name := base
		n.ext = ".sql"
		if strings.HasSuffix(name, ".up.sql") {
			n.ext = ".up.sql"
		}
		name = strings.TrimSuffix(name, n.ext)
		m := leadingNum.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("%s: the file name has no version number to follow", src.Path)
		}
		version, n.desc = m[1], m[3]
	}
	if n.kind == "" {
		n.kind = "number"
		switch {
		case strings.Contains(version, "-"):
			n.kind = "diesel-time"
		case len(version) == 14 && validTime(version, timestamp14):
			n.kind = "timestamp"
		}
	}
	n.width = len(version)
	for _, v := range append(versions, version) {
		n.see(v)
	}
	return n, nil
}

func validTime(v, layout string) bool {
	_, err := time.Parse(layout, v)
	return err == nil
}

// see takes a version of the set into account.
func (n *namer) see(v string) {
	switch n.kind {
	case "flyway":
		if n.sep == "" {
			n.sep = "."
			if strings.Contains(v, "_") && !strings.Contains(v, ".") {
				n.sep = "_"
			}
		}
		parts := strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '_' })
		if n.flyway == nil || flywayLess(n.flyway, parts) {
			n.flyway = parts
		}
	case "timestamp", "diesel-time":
		// diesel mixes dashed and plain timestamps in one folder.
		for _, layout := range []string{timestamp14, dieselTime} {
			if t, err := time.Parse(layout, v); err == nil && t.After(n.when) {
				n.when = t
			}
		}
	default:
		x, ok := new(big.Int).SetString(strings.ReplaceAll(v, "-", ""), 10)
		if ok && (n.last == nil || x.Cmp(n.last) > 0) {
			n.last = x
		}
	}
}

func flywayLess(a, b []string) bool {
	for i := 0; i < len(a) || i < len(b); i++ {
		x, y := big.NewInt(0), big.NewInt(0)
		if i < len(a) {
			x.SetString(a[i], 10)
		}
		if i < len(b) {
			y.SetString(b[i], 10)
		}
		if c := x.Cmp(y); c != 0 {
			return c < 0
		}
	}
	return false
}

// next returns the path of the next migration, named after step.
func (n *namer) next(step string) string {
	var version string
	switch n.kind {
	case "flyway":
		parts := append([]string(nil), n.flyway...)
		last := new(big.Int)
		last.SetString(parts[len(parts)-1], 10)
		parts[len(parts)-1] = last.Add(last, big.NewInt(1)).String()
		n.flyway = parts
		version = strings.Join(parts, n.sep)
	case "timestamp":
		n.when = n.when.Add(time.Second)
		version = n.when.Format(timestamp14)
	case "diesel-time":
		n.when = n.when.Add(time.Second)
		version = n.when.Format(dieselTime)
	default:
		n.last = new(big.Int).Add(n.last, big.NewInt(1))
		version = fmt.Sprintf("%0*s", n.width, n.last.String())
	}
	desc := step
	if n.desc != "" {
		desc = n.desc + "_" + step
	}
	switch n.format {
	case parser.FormatFlyway:
		return path.Join(n.dir, n.prefix+version+"__"+desc+n.ext)
	case parser.FormatDiesel:
		return path.Join(n.dir, version+"_"+desc, "up.sql")
	case parser.FormatPrisma:
		return path.Join(n.dir, version+"_"+desc, "migration.sql")
	}
	return path.Join(n.dir, version+"_"+desc+n.ext)
}
