// Package config reads .bgmigrate.yaml, the project's configuration.
//
// The file is versioned and strict: unknown keys, unknown rule ids, bad
// values and wrong YAML types are errors that name the file, the line, the
// column and the key. schema.json describes the same file for editors.
//
// Flags beat the file. The CLI loads the file (Find, then Load, or Default
// when there is none), then applies the flags the user set on top of it:
// it overwrites the Config fields whose flags changed (PGVersion, FailOn,
// Style, AssumeInTransaction) before calling RulesConfig, then replaces
// rules.Config.Only with --rules when given and appends --exclude-rules to
// rules.Config.Exclude. A --pg-version flag also beats the per-directory
// pg_version of migrations entries.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/rules"
)

// FileName is the name of the configuration file; AltFileName is accepted too.
const (
	FileName    = ".bgmigrate.yaml"
	AltFileName = ".bgmigrate.yml"
)

// Version is the only configuration version this bgmigrate reads.
const Version = 1

// Runners are the tools a project may apply its migrations with.
var Runners = []string{"bgmigrate", "goose", "golang-migrate", "flyway", "dbmate", "diesel", "prisma", "psql", "other"}

// RunnerBgmigrate is the runner that sets lock_timeout and
// statement_timeout itself, so the rules requiring them are turned off.
const RunnerBgmigrate = "bgmigrate"

// runnerTimeoutRules are satisfied by the bgmigrate runner.
var runnerTimeoutRules = []string{"require-lock-timeout", "require-statement-timeout"}

// FailOnLevels are the values of fail_on.
var FailOnLevels = []string{"error", "warning", "info", "none"}

// Config is the content of .bgmigrate.yaml. The yaml tags are the keys of
// the file; schema.json lists the same keys (a test keeps them in step).
type Config struct {
	// Version must be 1.
	Version int `yaml:"version"`
	// PGVersion is the PostgreSQL major version the migrations run on.
	PGVersion int `yaml:"pg_version"`
	// FailOn is the lowest severity that fails the run: error, warning,
	// info or none.
	FailOn string `yaml:"fail_on"`
	// AssumeInTransaction treats plain files as wrapped in a transaction.
	AssumeInTransaction bool `yaml:"assume_in_transaction"`
	// Runner is the tool that applies the migrations (one of Runners).
	Runner string `yaml:"runner"`
	// Style turns the opt-in style rules on.
	Style bool `yaml:"style"`
	// Rules turns rules on and off and overrides severities.
	Rules Rules `yaml:"rules"`
	// Exclude lists path globs (relative to the file's directory, ** for
	// any number of directories) of migrations left out.
	Exclude []string `yaml:"exclude"`
	// Migrations lists the migration directories.
	Migrations []Migrations `yaml:"migrations"`
	// Releases lists what each earlier release stopped reading.
	Releases []Release `yaml:"releases"`
	// DataChecks tune the counts of rows pending migrations would fail on.
	DataChecks DataChecks `yaml:"data_checks"`
	// Deploy configures bgmigrate deploy; nil when the file has none.
	Deploy *Deploy `yaml:"deploy"`

	// Path is the file the configuration was read from ("" for Default).
	Path string `yaml:"-"`
	// Dir is the absolute directory that relative paths in the file are
	// relative to; "" means the working directory.
	Dir string `yaml:"-"`
}

// Rules selects rules.
type Rules struct {
	// Enable turns rules on, style rules included.
	Enable []string `yaml:"enable"`
	// Disable turns rules off.
	Disable []string `yaml:"disable"`
	// Severity overrides rules' default severities: rule id → info,
	// warning or error.
	Severity map[string]string `yaml:"severity"`
	// SmallTableRows: with a database to read table sizes from (lint
	// --dsn, plan, gate), a finding about a lock or a rewrite of a table
	// with fewer rows is lowered to info, and a rewrite of a table with
	// more rows than that is raised to error; 0 turns this off. Default
	// 10000.
	SmallTableRows *int `yaml:"small_table_rows"`
}

// DataChecks tune the counts of the live rows a pending migration would
// fail on (plan, gate, and the runner before each migration).
type DataChecks struct {
	// Disable turns the counts off.
	Disable bool `yaml:"disable"`
	// SampleAboveRows: a table estimated larger is sampled (TABLESAMPLE)
	// and the count scaled; 0 never samples. Default 10000000.
	SampleAboveRows *int `yaml:"sample_above_rows"`
	// Timeout bounds each count (statement_timeout); default 30s; 0s is
	// refused (it would bound nothing).
	Timeout time.Duration `yaml:"timeout"`
}

// Migrations is one migration directory.
type Migrations struct {
	// Dir is relative to the configuration file's directory.
	Dir string `yaml:"dir"`
	// Format is the migration tool format (one of parser.Formats); ""
	// means auto.
	Format parser.Format `yaml:"format"`
	// PGVersion overrides the file's pg_version for this directory; 0
	// means the file's.
	PGVersion int `yaml:"pg_version"`
}

// Release is an earlier release and the tables ("table") and columns
// ("table.column") the application stopped reading in it.
type Release struct {
	Name         string   `yaml:"name"`
	StoppedUsing []string `yaml:"stopped_using"`
}

// Default is the configuration used when there is no file.
func Default() *Config {
	c := &Config{Version: Version}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	if c.PGVersion == 0 {
		c.PGVersion = 15
	}
	if c.FailOn == "" {
		c.FailOn = "error"
	}
	if c.Runner == "" {
		c.Runner = "other"
	}
	for i := range c.Migrations {
		if c.Migrations[i].Format == "" {
			c.Migrations[i].Format = parser.FormatAuto
		}
	}
}

// Load reads and checks a configuration file. Every problem found is an
// *Error; when there are several, the error is an ErrorList (errors.As
// finds the first *Error in both cases). Missing keys take their defaults.
func Load(p string) (*Config, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(p, data)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(filepath.Dir(p))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c.Dir = abs
	return c, nil
}

// Parse reads a configuration from data; p names it in errors. Relative
// paths in the result are relative to the working directory (Load sets Dir
// to the file's directory).
func Parse(p string, data []byte) (*Config, error) {
	c, err := decode(p, data)
	if err != nil {
		return nil, err
	}
	c.Path = p
	c.setDefaults()
	return c, nil
}

// Find looks for .bgmigrate.yaml (or .bgmigrate.yml) in startDir and its
// parents, up to and including the repository root: the first directory
// holding .git (or the file system root when there is none). It returns ""
// and no error when there is no file. The path returned is startDir joined
// with as many ".." as needed (cleaned), so a relative startDir gives a
// path relative to the same directory.
func Find(startDir string) (string, error) {
	abs, err := filepath.Abs(startDir)
	if err != nil {
		return "", fmt.Errorf("find config: %w", err)
	}
	rel := startDir
	for {
		var found []string
		for _, name := range []string{FileName, AltFileName} {
			info, err := os.Stat(filepath.Join(abs, name))
			switch {
			case err == nil && !info.IsDir():
				found = append(found, name)
			case err != nil && !errors.Is(err, fs.ErrNotExist):
				return "", fmt.Errorf("find config: %w", err)
			}
		}
		switch len(found) {
		case 1:
			return filepath.Join(rel, found[0]), nil
		case 2:
			return "", fmt.Errorf("find config: both %s and %s are in %s; keep one", FileName, AltFileName, filepath.Clean(rel))
		}
		if _, err := os.Stat(filepath.Join(abs, ".git")); err == nil {
			return "", nil
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return "", nil
		}
		abs, rel = parent, filepath.Join(rel, "..")
	}
}

// RulesConfig maps the configuration onto the rule driver's: rules.enable
// runs the default rules plus the enabled ones (through Only), and the
// bgmigrate runner turns off the timeout rules it satisfies unless they are
// enabled explicitly.
func (c *Config) RulesConfig() rules.Config {
	rc := rules.Config{
		PGVersion:           c.PGVersion,
		Style:               c.Style,
		AssumeInTransaction: c.AssumeInTransaction,
		Exclude:             slices.Clone(c.Rules.Disable),
	}
	if c.Runner == RunnerBgmigrate {
		for _, id := range runnerTimeoutRules {
			if !slices.Contains(c.Rules.Enable, id) {
				rc.Exclude = append(rc.Exclude, id)
			}
		}
	}
	rc.Enable = slices.Clone(c.Rules.Enable)
	if len(c.Rules.Severity) > 0 {
		rc.Severity = map[string]rules.Severity{}
		for id, s := range c.Rules.Severity {
			if sev, err := rules.ParseSeverity(s); err == nil {
				rc.Severity[id] = sev
			}
		}
	}
	for _, r := range c.Releases {
		rc.Releases = append(rc.Releases, rules.Release{Name: r.Name, StoppedUsing: slices.Clone(r.StoppedUsing)})
	}
	return rc
}

// FailSeverity is the lowest severity that fails the run; 0 for "none".
func (c *Config) FailSeverity() rules.Severity {
	sev, err := rules.ParseSeverity(c.FailOn)
	if err != nil {
		return 0
	}
	return sev
}

// Excluded reports whether a migration path (relative to the working
// directory, or absolute) matches an exclude glob. Globs are matched
// against the slash path relative to the configuration file's directory;
// a glob matching a directory excludes everything below it. Files outside
// that directory are never excluded.
func (c *Config) Excluded(p string) bool {
	rel, ok := c.rel(p)
	if !ok {
		return false
	}
	for _, g := range c.Exclude {
		g = strings.TrimPrefix(g, "./")
		for q := rel; ; q = path.Dir(q) {
			if matchGlob(g, q) {
				return true
			}
			if !strings.Contains(q, "/") {
				break
			}
		}
	}
	return false
}

// DirFor returns the migrations entry whose directory holds the file p
// (the deepest one when entries nest), or nil.
func (c *Config) DirFor(p string) *Migrations {
	rel, ok := c.rel(p)
	if !ok {
		return nil
	}
	var best *Migrations
	bestLen := -1
	for i := range c.Migrations {
		m := &c.Migrations[i]
		d := path.Clean(filepath.ToSlash(m.Dir))
		n := len(d)
		if d == "." {
			n = 0
		} else if rel != d && !strings.HasPrefix(rel, d+"/") {
			continue
		}
		if n > bestLen {
			best, bestLen = m, n
		}
	}
	return best
}

// PGVersionFor is the PostgreSQL major version for the file p: its
// directory's pg_version, else the file's.
func (c *Config) PGVersionFor(p string) int {
	if m := c.DirFor(p); m != nil && m.PGVersion != 0 {
		return m.PGVersion
	}
	return c.PGVersion
}

// FormatFor is the migration tool format for the file p: its directory's
// format, else auto.
func (c *Config) FormatFor(p string) parser.Format {
	if m := c.DirFor(p); m != nil && m.Format != "" {
		return m.Format
	}
	return parser.FormatAuto
}

// MigrationDirs are the migration directories as paths usable from the
// working directory (relative to it when they lie below it), for commands
// run without path arguments.
func (c *Config) MigrationDirs() []string {
	wd, _ := os.Getwd()
	var out []string
	for _, m := range c.Migrations {
		p := filepath.FromSlash(m.Dir)
		if c.Dir != "" && !filepath.IsAbs(p) {
			p = filepath.Join(c.Dir, p)
			if wd != "" {
				if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
					p = r
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// rel turns p into a slash path relative to the configuration's directory;
// false when it lies outside.
func (c *Config) rel(p string) (string, bool) {
	if c.Dir == "" {
		r := filepath.ToSlash(filepath.Clean(p))
		return r, r != ".." && !strings.HasPrefix(r, "../") && !path.IsAbs(r)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	r, err := filepath.Rel(c.Dir, abs)
	if err != nil {
		return "", false
	}
	r = filepath.ToSlash(r)
	return r, r != ".." && !strings.HasPrefix(r, "../")
}

// matchGlob matches a slash path against a glob in which ** stands for any
// number of directories (none included) and the other elements follow
// path.Match.
func matchGlob(pattern, name string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 0 && pat[0] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// validGlob reports a malformed glob.
func validGlob(pattern string) error {
	for _, seg := range strings.Split(pattern, "/") {
		if strings.Contains(seg, "**") && seg != "**" {
			return fmt.Errorf("** must be a whole path element in %q", pattern)
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("bad pattern %q: %v", pattern, err)
		}
	}
	return nil
}

// SmallTableRowsLimit is rules.small_table_rows, 10000 when unset.
func (c *Config) SmallTableRowsLimit() int {
	if c.Rules.SmallTableRows == nil {
		return 10000
	}
	return *c.Rules.SmallTableRows
}

// SampleAbove is data_checks.sample_above_rows, 10,000,000 when unset.
func (d DataChecks) SampleAbove() int64 {
	if d.SampleAboveRows == nil {
		return 10_000_000
	}
	return int64(*d.SampleAboveRows)
}

// TimeoutOrDefault is data_checks.timeout, 30s when unset (the decoder
// refuses a timeout of 0s, so 0 is only ever "not given").
func (d DataChecks) TimeoutOrDefault() time.Duration {
	if d.Timeout <= 0 {
		return 30 * time.Second
	}
	return d.Timeout
}
