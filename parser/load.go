package parser

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Set is the migrations of one directory, in the order their tool applies
// them. A set is replayed as a whole to build the schema its files see.
type Set struct {
	Dir   string
	Files []string // slash paths
}

// InputError is a path argument that could not be read.
type InputError struct {
	Arg string
	Err error
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %v", e.Arg, e.Err) }
func (e *InputError) Unwrap() error { return e.Err }

// Collect expands path arguments (files, directories searched recursively,
// and glob patterns with ** for any depth) into ordered migration sets.
// Down migrations and files for other databases are left out.
func Collect(args []string) ([]*Set, error) {
	seen := map[string]bool{}
	var files []string
	add := func(p string) {
		p = filepath.ToSlash(filepath.Clean(p))
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	infos, errs := statArgs(args)
	for i, arg := range args {
		if hasMeta(arg) {
			matches, err := glob(arg)
			if err != nil {
				return nil, &InputError{arg, err}
			}
			if len(matches) == 0 {
				return nil, &InputError{arg, fmt.Errorf("no file matches the pattern")}
			}
			for _, m := range matches {
				if isMigration(m) {
					add(m)
				}
			}
			continue
		}
		info, err := infos[i], errs[i]
		if err != nil {
			return nil, &InputError{arg, err}
		}
		if !info.IsDir() {
			add(arg)
			continue
		}
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != arg && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "vendor") {
					return filepath.SkipDir
				}
				return nil
			}
			if isMigration(p) {
				add(p)
			}
			return nil
		})
		if err != nil {
			return nil, &InputError{arg, err}
		}
	}
	return groupSets(files), nil
}

// statArgs stats the arguments that are not patterns on all cores: a shell
// glob may name thousands of files, and one stat after the other held up
// the start of a run.
func statArgs(args []string) ([]fs.FileInfo, []error) {
	infos := make([]fs.FileInfo, len(args))
	errs := make([]error, len(args))
	workers := min(runtime.GOMAXPROCS(0), len(args)/256+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(args); i += workers {
				if !hasMeta(args[i]) {
					infos[i], errs[i] = os.Stat(args[i])
				}
			}
		})
	}
	wg.Wait()
	return infos, errs
}

func isMigration(p string) bool {
	return strings.HasSuffix(p, ".sql") && !IsDown(p) && !OtherDialect(p)
}

// SetDir is the directory whose files form one migration set: the parent
// of the per-migration directory for diesel and prisma, else the file's.
func SetDir(p string) string {
	dir := path.Dir(p)
	switch path.Base(p) {
	case "up.sql", "migration.sql":
		return path.Dir(dir)
	}
	return dir
}

func groupSets(files []string) []*Set {
	byDir := map[string]*Set{}
	var sets []*Set
	for _, f := range files {
		d := SetDir(f)
		s := byDir[d]
		if s == nil {
			s = &Set{Dir: d}
			byDir[d] = s
			sets = append(sets, s)
		}
		s.Files = append(s.Files, f)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Dir < sets[j].Dir })
	for _, s := range sets {
		sort.SliceStable(s.Files, func(i, j int) bool { return lessMigration(s.Files[i], s.Files[j]) })
	}
	return sets
}

var flywayVersion = regexp.MustCompile(`^([VBR])([0-9._]*)__`)

// lessMigration orders two migrations of one set the way their tools do:
// Flyway by version with repeatable scripts last, the others by the
// natural order of the name that carries the version.
func lessMigration(a, b string) bool {
	fa, fb := flywayVersion.FindStringSubmatch(path.Base(a)), flywayVersion.FindStringSubmatch(path.Base(b))
	if fa != nil && fb != nil {
		ra, rb := fa[1] == "R", fb[1] == "R"
		if ra != rb {
			return rb
		}
		if c := compareVersions(fa[2], fb[2]); c != 0 {
			return c < 0
		}
		return a < b
	}
	ka, kb := versionName(a), versionName(b)
	if c := naturalCompare(ka, kb); c != 0 {
		return c < 0
	}
	return a < b
}

func versionName(p string) string {
	switch path.Base(p) {
	case "up.sql", "migration.sql":
		return path.Base(path.Dir(p))
	}
	return path.Base(p)
}

func compareVersions(a, b string) int {
	pa := strings.FieldsFunc(a, func(r rune) bool { return r == '.' || r == '_' })
	pb := strings.FieldsFunc(b, func(r rune) bool { return r == '.' || r == '_' })
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int64
		if i < len(pa) {
			x, _ = strconv.ParseInt(pa[i], 10, 64)
		}
		if i < len(pb) {
			y, _ = strconv.ParseInt(pb[i], 10, 64)
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// naturalCompare compares strings with runs of digits compared as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				if len(na) < len(nb) {
					return -1
				}
				return 1
			}
			if na != nb {
				return strings.Compare(na, nb)
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

// glob matches a pattern in which ** stands for any number of directories.
func glob(pattern string) ([]string, error) {
	if !strings.Contains(pattern, "**") {
		return filepath.Glob(pattern)
	}
	root := pattern[:strings.Index(pattern, "**")]
	if i := strings.LastIndexAny(root, `/\`); i >= 0 {
		root = root[:i]
	} else {
		root = "."
	}
	re, err := globRegexp(filepath.ToSlash(pattern))
	if err != nil {
		return nil, err
	}
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && re.MatchString(filepath.ToSlash(p)) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case strings.HasPrefix(pattern[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// SideOptions reads what a tool's side files say about running p: Flyway's
// per-script "<name>.sql.conf" and diesel's "metadata.toml".
func SideOptions(p string) Options {
	var o Options
	read := func(name, key, off string) {
		data, err := os.ReadFile(name)
		if err != nil {
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if ok && strings.TrimSpace(k) == key && strings.Trim(strings.TrimSpace(v), `"`) == off {
				o.NoTransaction = true
			}
		}
	}
	switch DetectFormat(p, "") {
	case FormatFlyway:
		read(p+".conf", "executeInTransaction", "false")
	case FormatDiesel:
		read(path.Join(path.Dir(p), "metadata.toml"), "run_in_transaction", "false")
	}
	return o
}
