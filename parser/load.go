package parser

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Set is the migrations of one directory, in the order their tool applies
// them, or of a tree of release folders (see mergeReleases). A set is
// replayed as a whole to build the schema its files see.
type Set struct {
	Dir   string
	Files []string // slash paths
}

// InputError is a path argument, or a file found under one, that could not
// be read.
type InputError struct {
	Arg string
	Err error
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %v", e.Arg, e.Err) }
func (e *InputError) Unwrap() error { return e.Err }

// NotRegularError is an input that is neither a regular file nor a
// directory. Such an input is never read: a named pipe without a writer
// blocks its reader, and a device such as /dev/zero never ends.
type NotRegularError struct {
	Mode fs.FileMode // the input's type bits
}

func (e *NotRegularError) Error() string {
	m := e.Mode
	kind := "an irregular file"
	switch {
	case m&fs.ModeDir != 0:
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	case m&fs.ModeSymlink != 0:
		kind = "a symbolic link"
	}
	return "not a regular file (" + kind + ")"
}

// MaxInput is the most bytes read from one input, a file or standard
// input. PostgreSQL refuses a query string of 1 GiB, and a reader must
// stop somewhere on an input whose size is not known in advance.
const MaxInput = 1 << 30

// TooLargeError is an input of more than MaxInput bytes.
type TooLargeError struct{}

func (*TooLargeError) Error() string { return fmt.Sprintf("larger than %d GiB", MaxInput>>30) }

// Collect expands path arguments (files, directories searched recursively,
// and glob patterns with ** for any depth) into ordered migration sets.
// Down migrations and files for other databases are left out. Every file
// must be a regular file (or a link to one): anything else is an
// *InputError naming it, before a file is read.
func Collect(args []string) ([]*Set, error) {
	seen := map[string]bool{}
	var files []string
	add := func(ps []string) {
		for _, p := range ps {
			p = filepath.ToSlash(filepath.Clean(p))
			if !seen[p] {
				seen[p] = true
				files = append(files, p)
			}
		}
	}
	infos, errs := statPaths(args, hasMeta)
	for i, arg := range args {
		var found []string
		var err error
		switch {
		case hasMeta(arg):
			found, err = globMigrations(arg)
		case errs[i] != nil:
			err = &InputError{arg, errs[i]}
		case infos[i].IsDir():
			found, err = walkMigrations(arg)
		default:
			found, err = []string{arg}, regular(arg, infos[i])
		}
		if err != nil {
			return nil, err
		}
		add(found)
	}
	return groupSets(files), nil
}

// regular is nil when info, p's, is that of a regular file.
func regular(p string, info fs.FileInfo) error {
	if info.Mode().IsRegular() {
		return nil
	}
	return &InputError{p, &NotRegularError{info.Mode().Type()}}
}

// globMigrations returns the migrations a pattern matches.
func globMigrations(pattern string) ([]string, error) {
	matches, err := glob(pattern)
	if err != nil {
		return nil, &InputError{pattern, err}
	}
	if len(matches) == 0 {
		return nil, &InputError{pattern, fmt.Errorf("no file matches the pattern")}
	}
	var found []string
	for _, m := range matches {
		if isMigration(m) {
			found = append(found, m)
		}
	}
	infos, errs := statPaths(found, nil)
	for i, m := range found {
		if errs[i] != nil {
			return nil, &InputError{m, errs[i]}
		}
		if err := regular(m, infos[i]); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// walkMigrations returns the migrations under root, leaving out hidden,
// node_modules and vendor directories.
func walkMigrations(root string) ([]string, error) {
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !isMigration(p) {
			return nil
		}
		if !d.Type().IsRegular() {
			// The type of a link, whose target is what is read.
			info, err := os.Stat(p)
			if err != nil {
				return &InputError{p, err}
			}
			if err := regular(p, info); err != nil {
				return err
			}
		}
		found = append(found, p)
		return nil
	})
	if ie := (*InputError)(nil); errors.As(err, &ie) {
		return nil, ie
	}
	if err != nil {
		return nil, &InputError{root, err}
	}
	return found, nil
}

// statPaths stats the paths that skip (when set) does not leave out, on
// all cores: a shell glob may name thousands of files, and one stat after
// the other held up the start of a run.
func statPaths(paths []string, skip func(string) bool) ([]fs.FileInfo, []error) {
	infos := make([]fs.FileInfo, len(paths))
	errs := make([]error, len(paths))
	workers := min(runtime.GOMAXPROCS(0), len(paths)/256+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(paths); i += workers {
				if skip == nil || !skip(paths[i]) {
					infos[i], errs[i] = os.Stat(paths[i])
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
// A tree of release folders is one set all the same (see mergeReleases).
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
	sets, releases := mergeReleases(sets)
	sort.Slice(sets, func(i, j int) bool { return sets[i].Dir < sets[j].Dir })
	for _, s := range sets {
		if releases[s] {
			sort.SliceStable(s.Files, func(i, j int) bool { return lessRelease(s.Files[i], s.Files[j]) })
			continue
		}
		// What the order reads of each name, worked out once per file.
		named := make([]namedMigration, len(s.Files))
		for i, f := range s.Files {
			named[i] = namedMigration{f, nameOf(f)}
		}
		sort.SliceStable(named, func(i, j int) bool {
			a, b := &named[i], &named[j]
			if c := compareNames(&a.name, &b.name); c != 0 {
				return c < 0
			}
			return a.path < b.path
		})
		for i := range named {
			s.Files[i] = named[i].path
		}
	}
	return sets
}

type namedMigration struct {
	path string
	name migrationName
}

// releaseFolder matches the name of a folder that holds one release's
// migrations: "v1.10", "1.2", "release-1.10", "2024-01".
var releaseFolder = regexp.MustCompile(`^([A-Za-z]+[-_]?)?[0-9]+(?:[._-][0-9]+)*$`)

// mergeReleases makes one set of the sets of release folders that share
// a parent folder, applied release after release ("db/v1.2/" before
// "db/v1.10/"), and reports which sets it made. It merges only what no
// tool reads as its own layout: two folders or more, all named as
// releases with the same prefix ("v", "release-"), of plain SQL files
// (no Flyway, golang-migrate, diesel or prisma names, no goose or dbmate
// annotations), under a parent that holds no migration itself (the order
// of that one against the releases would be a guess). goose and dbmate
// read one directory; Flyway, which reads a tree, orders by the versions
// in the file names, which the folders do not change.
func mergeReleases(sets []*Set) ([]*Set, map[*Set]bool) {
	dirs := map[string]bool{}
	byParent := map[string][]*Set{}
	var parents []string
	for _, s := range sets {
		dirs[s.Dir] = true
		if !releaseFolder.MatchString(path.Base(s.Dir)) {
			continue
		}
		p := path.Dir(s.Dir)
		if byParent[p] == nil {
			parents = append(parents, p)
		}
		byParent[p] = append(byParent[p], s)
	}
	merged := map[*Set]bool{}
	gone := map[*Set]bool{}
	var out []*Set
	for _, p := range parents {
		group := byParent[p]
		if len(group) < 2 || dirs[p] || !samePrefix(group) || !plainSQL(group) {
			continue
		}
		m := &Set{Dir: p}
		for _, s := range group {
			m.Files = append(m.Files, s.Files...)
			gone[s] = true
		}
		merged[m] = true
		out = append(out, m)
	}
	for _, s := range sets {
		if !gone[s] {
			out = append(out, s)
		}
	}
	return out, merged
}

// releasePrefix is what comes before the version in the name of a
// release folder ("v", "release-", ""), in lower case.
func releasePrefix(dir string) string {
	m := releaseFolder.FindStringSubmatch(path.Base(dir))
	if m == nil {
		return ""
	}
	return strings.ToLower(m[1])
}

func samePrefix(sets []*Set) bool {
	for _, s := range sets[1:] {
		if releasePrefix(s.Dir) != releasePrefix(sets[0].Dir) {
			return false
		}
	}
	return true
}

// sniffBytes is how much of a file plainSQL reads for a tool's annotation,
// which comes before the statements.
const sniffBytes = 64 << 10

// plainSQL reports whether the files of sets are plain SQL, by their names
// and then the annotations at their head. A file that cannot be read counts
// as not plain: its set is left as it is, and reading it fails later.
func plainSQL(sets []*Set) bool {
	for _, s := range sets {
		for _, f := range s.Files {
			if DetectFormat(f, "") != FormatPlain {
				return false
			}
		}
	}
	head := make([]byte, sniffBytes)
	for _, s := range sets {
		for _, f := range s.Files {
			n, err := readHead(f, head)
			if err != nil || DetectFormat(f, string(head[:n])) != FormatPlain {
				return false
			}
		}
	}
	return true
}

// readHead reads the start of file p into buf. Collect has found p to be a
// regular file, so the open does not wait for a writer.
func readHead(p string, buf []byte) (int, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return n, err
}

// lessRelease orders the migrations of a tree of release folders: by
// release, then as lessMigration does within one.
func lessRelease(a, b string) bool {
	da, db := path.Dir(a), path.Dir(b)
	if da != db {
		va, vb := path.Base(da)[len(releasePrefix(da)):], path.Base(db)[len(releasePrefix(db)):]
		if c := naturalCompare(va, vb); c != 0 {
			return c < 0
		}
		return da < db
	}
	return lessMigration(a, b)
}

var flywayVersion = regexp.MustCompile(`^([VBR])([0-9._]*)__`)

// lessMigration orders two migrations of one set the way their tools do
// (compareMigrations), by path when the tool sees no order.
func lessMigration(a, b string) bool {
	if c := compareMigrations(a, b); c != 0 {
		return c < 0
	}
	return a < b
}

// compareMigrations compares two migrations of one set: Flyway by version,
// each part a number, with repeatable scripts last; diesel by the version
// its folder names (dieselVersion); goose, golang-migrate, dbmate, prisma
// and plain files by the natural order of the name that carries the
// version, which compares the leading numbers of goose and golang-migrate
// as numbers, whatever their width, as those tools do.
func compareMigrations(a, b string) int {
	na, nb := nameOf(a), nameOf(b)
	return compareNames(&na, &nb)
}

// migrationName is what compareMigrations reads of a migration's path.
type migrationName struct {
	flyway  []string // flywayVersion's match of the file name, nil when none
	up      bool     // the file is an up.sql
	diesel  string   // dieselVersion, for an up.sql
	version string   // versionName
}

func nameOf(p string) migrationName {
	n := migrationName{flyway: flywayVersion.FindStringSubmatch(path.Base(p)), version: versionName(p)}
	if n.up = path.Base(p) == "up.sql"; n.up {
		n.diesel = dieselVersion(p)
	}
	return n
}

func compareNames(a, b *migrationName) int {
	if fa, fb := a.flyway, b.flyway; fa != nil && fb != nil {
		if ra, rb := fa[1] == "R", fb[1] == "R"; ra != rb {
			if ra {
				return 1
			}
			return -1
		}
		return compareVersions(fa[2], fb[2])
	}
	if a.up && b.up {
		return strings.Compare(a.diesel, b.diesel)
	}
	return naturalCompare(a.version, b.version)
}

// dieselVersion is the version diesel gives the migration in folder
// "2019-06-14-175833_create_users": the name up to its first "_", dashes
// left out ("20190614175833"). diesel orders migrations by comparing
// these as strings, which for its timestamps of 14 digits, dashed or not,
// is their order in time.
func dieselVersion(upSQL string) string {
	v, _, _ := strings.Cut(path.Base(path.Dir(upSQL)), "_")
	return strings.ReplaceAll(v, "-", "")
}

func versionName(p string) string {
	switch path.Base(p) {
	case "up.sql", "migration.sql":
		return path.Base(path.Dir(p))
	}
	return path.Base(p)
}

// compareVersions compares Flyway versions ("1.10", "1_2"): part by part,
// each a number of any size, a missing part counting as 0.
func compareVersions(a, b string) int {
	sep := func(r rune) bool { return r == '.' || r == '_' }
	pa, pb := strings.FieldsFunc(a, sep), strings.FieldsFunc(b, sep)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		x, y := "0", "0"
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if c := compareNumbers(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// compareNumbers compares two runs of decimal digits as the numbers they
// write, of any length.
func compareNumbers(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return cmp.Compare(len(a), len(b))
	}
	return strings.Compare(a, b)
}

// naturalCompare compares strings with runs of digits compared as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			if c := compareNumbers(a[:da], b[:db]); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
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
