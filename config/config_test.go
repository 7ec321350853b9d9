package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/rules"
)

const name = ".bgmigrate.yaml"

func TestParse(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	tests := []struct {
		name string
		src  string
		// err is the whole error message; "" for a valid file.
		err string
		// key is the Key of the (first) *Error.
		key string
		// schemaAgrees is false where schema.json cannot see the problem
		// (globs, cross-key checks, duplicate keys).
		schemaDiffers bool
		check         func(t *testing.T, c *Config)
	}{
		{
			name: "minimal",
			src:  "version: 1\n",
			check: func(t *testing.T, c *Config) {
				if c.PGVersion != 15 || c.FailOn != "error" || c.Runner != "other" || c.Style {
					t.Errorf("defaults: %+v", c)
				}
			},
		},
		{
			name: "full",
			src: `version: 1
pg_version: 14
fail_on: warning
assume_in_transaction: true
runner: goose
style: true
rules:
  enable: [prefer-text-field]
  disable: [unbatched-backfill]
  severity:
    ban-drop-column: warning
exclude: ["legacy/**"]
migrations:
  - dir: db/migrations
  - dir: other
    format: flyway
    pg_version: 16
releases:
  - name: "2026.11"
    stopped_using: [users.legacy_flag, orders]
`,
			check: func(t *testing.T, c *Config) {
				if c.PGVersion != 14 || c.FailOn != "warning" || !c.AssumeInTransaction || c.Runner != "goose" || !c.Style {
					t.Errorf("scalars: %+v", c)
				}
				if !slices.Equal(c.Rules.Enable, []string{"prefer-text-field"}) || !slices.Equal(c.Rules.Disable, []string{"unbatched-backfill"}) ||
					c.Rules.Severity["ban-drop-column"] != "warning" {
					t.Errorf("rules: %+v", c.Rules)
				}
				want := []Migrations{{Dir: "db/migrations", Format: parser.FormatAuto}, {Dir: "other", Format: parser.FormatFlyway, PGVersion: 16}}
				if !slices.Equal(c.Migrations, want) {
					t.Errorf("migrations: %+v", c.Migrations)
				}
				if len(c.Releases) != 1 || c.Releases[0].Name != "2026.11" || !slices.Equal(c.Releases[0].StoppedUsing, []string{"users.legacy_flag", "orders"}) {
					t.Errorf("releases: %+v", c.Releases)
				}
			},
		},
		{
			name: "anchors",
			src:  "version: 1\nrules:\n  disable: &off [unbatched-backfill]\nexclude: [\"x/**\"]\n",
		},
		{
			name: "unknown top-level key",
			src:  "version: 1\npg_version: 15\nrulez:\n  enable: []\n",
			err:  `.bgmigrate.yaml:3:1: unknown key "rulez" (did you mean "rules"?)`,
			key:  "rulez",
		},
		{
			name: "unknown nested key",
			src:  "version: 1\nrules:\n  enable: [prefer-text-field]\n  enabel: [ban-char-field]\n",
			err:  `.bgmigrate.yaml:4:3: unknown key "enabel" in rules (did you mean "enable"?)`,
			key:  "rules.enabel",
		},
		{
			name: "unknown key in list item",
			src:  "version: 1\nmigrations:\n  - dir: db\n    colour: blue\n",
			err:  `.bgmigrate.yaml:4:5: unknown key "colour" in migrations[0] (want one of dir, format, pg_version)`,
			key:  "migrations[0].colour",
		},
		{
			name: "unknown rule id",
			src:  "version: 1\nrules:\n  disable:\n    - ban-drop-colum\n",
			err:  `.bgmigrate.yaml:4:7: rules.disable[0]: unknown rule "ban-drop-colum" (did you mean "ban-drop-column"?)`,
			key:  "rules.disable[0]",
		},
		{
			name: "unknown rule id in severity",
			src:  "version: 1\nrules:\n  severity:\n    no-such-rule: error\n",
			err:  `.bgmigrate.yaml:4:5: rules.severity: unknown rule "no-such-rule" (see bgmigrate rules)`,
			key:  "rules.severity.no-such-rule",
		},
		{
			name: "wrong type",
			src:  "version: 1\npg_version: \"x\"\n",
			err:  `.bgmigrate.yaml:2:13: pg_version: want an integer, got "x"`,
			key:  "pg_version",
		},
		{
			name: "list for a string",
			src:  "version: 1\nfail_on: [error]\n",
			err:  `.bgmigrate.yaml:2:10: fail_on: want a string, got a list`,
			key:  "fail_on",
		},
		{
			name: "string for a list",
			src:  "version: 1\nexclude: legacy/**\n",
			err:  `.bgmigrate.yaml:2:10: exclude: want a list, got "legacy/**"`,
			key:  "exclude",
		},
		{
			name: "number for a string",
			src:  "version: 1\nreleases:\n  - name: 2026.11\n",
			err:  `.bgmigrate.yaml:3:11: releases[0].name: want a string, got the number 2026.11 (quote it)`,
			key:  "releases[0].name",
		},
		{
			name: "yes is not a boolean",
			src:  "version: 1\nstyle: yes\n",
			err:  `.bgmigrate.yaml:2:8: style: want true or false, got "yes"`,
			key:  "style",
		},
		{
			name: "no value",
			src:  "version: 1\nrules:\n",
			err:  `.bgmigrate.yaml:2:7: rules has no value (give one or remove the key)`,
			key:  "rules",
		},
		{
			name: "bad severity",
			src:  "version: 1\nrules:\n  severity:\n    ban-drop-column: fatal\n",
			err:  `.bgmigrate.yaml:4:22: rules.severity.ban-drop-column: unknown severity "fatal" (want info, warning or error)`,
			key:  "rules.severity.ban-drop-column",
		},
		{
			name: "bad format",
			src:  "version: 1\nmigrations:\n  - dir: db\n    format: sqitch\n",
			err:  `.bgmigrate.yaml:4:13: migrations[0].format: unknown format "sqitch" (want one of auto, plain, golang-migrate, goose, dbmate, flyway, diesel, prisma)`,
			key:  "migrations[0].format",
		},
		{
			name: "bad fail_on",
			src:  "version: 1\nfail_on: warn\n",
			err:  `.bgmigrate.yaml:2:10: fail_on: unknown value "warn" (want one of error, warning, info, none)`,
			key:  "fail_on",
		},
		{
			name: "bad runner",
			src:  "version: 1\nrunner: liquibase\n",
			err:  `.bgmigrate.yaml:2:9: runner: unknown value "liquibase" (want one of bgmigrate, goose, golang-migrate, flyway, dbmate, diesel, prisma, psql, other)`,
			key:  "runner",
		},
		{
			name: "pg_version out of range",
			src:  "version: 1\nmigrations:\n  - dir: db\n    pg_version: 8\n",
			err:  `.bgmigrate.yaml:4:17: migrations[0].pg_version: 8 is not a supported PostgreSQL major version (9 to 18)`,
			key:  "migrations[0].pg_version",
		},
		{
			name: "missing dir",
			src:  "version: 1\nmigrations:\n  - format: goose\n",
			err:  `.bgmigrate.yaml:3:5: migrations[0]: missing key "dir"`,
			key:  "migrations[0].dir",
		},
		{
			name: "missing version",
			src:  "pg_version: 15\n",
			err:  `.bgmigrate.yaml:1:1: missing key "version" (this bgmigrate reads version: 1)`,
			key:  "version",
		},
		{
			name: "empty file",
			src:  "",
			err:  `.bgmigrate.yaml: missing key "version" (this bgmigrate reads version: 1)`,
			key:  "version",
		},
		{
			name: "unsupported version",
			src:  "version: 2\nwhatever: true\n",
			err:  `.bgmigrate.yaml:1:10: unsupported version 2 (this bgmigrate reads version: 1)`,
			key:  "version",
		},
		{
			name: "version as string",
			src:  "version: \"1\"\n",
			err:  `.bgmigrate.yaml:1:10: version: want an integer, got "1"`,
			key:  "version",
		},
		{
			name: "not a mapping",
			src:  "- version: 1\n",
			err:  `.bgmigrate.yaml:1:1: want a mapping of keys at the top level, got a list`,
		},
		{
			name: "invalid YAML",
			src:  "version: 1\n\tstyle: true\n",
			err:  `.bgmigrate.yaml:2: invalid YAML: found a tab character that violates indentation`,
		},
		{
			name:          "duplicate key",
			src:           "version: 1\nstyle: true\nstyle: false\n",
			err:           `.bgmigrate.yaml:3:1: key "style" is already set at line 2`,
			key:           "style",
			schemaDiffers: true,
		},
		{
			name:          "zero data check timeout",
			src:           "version: 1\ndata_checks:\n  timeout: 0s\n",
			err:           `.bgmigrate.yaml:3:12: data_checks.timeout: 0s is not allowed here (leave the key out for its default)`,
			key:           "data_checks.timeout",
			schemaDiffers: true,
		},
		{
			name:          "bad glob",
			src:           "version: 1\nexclude: [\"db/[a\"]\n",
			err:           `.bgmigrate.yaml:2:11: exclude[0]: bad pattern "db/[a": syntax error in pattern`,
			key:           "exclude[0]",
			schemaDiffers: true,
		},
		{
			name:          "enabled and disabled",
			src:           "version: 1\nrules:\n  enable: [prefer-text-field]\n  disable: [prefer-text-field]\n",
			err:           `.bgmigrate.yaml:4:13: rules.disable[0]: rule "prefer-text-field" is also in rules.enable`,
			key:           "rules.disable[0]",
			schemaDiffers: true,
		},
		{
			name:          "duplicate directory",
			src:           "version: 1\nmigrations:\n  - dir: db\n  - dir: ./db\n",
			err:           `.bgmigrate.yaml:4:10: migrations[1].dir: "./db" is listed already in migrations[0]`,
			key:           "migrations[1].dir",
			schemaDiffers: true,
		},
		{
			name: "several problems",
			src:  "version: 1\nfail_on: never\nrulez: {}\n",
			err: `.bgmigrate.yaml:2:10: fail_on: unknown value "never" (want one of error, warning, info, none)
.bgmigrate.yaml:3:1: unknown key "rulez" (did you mean "rules"?)`,
			key: "fail_on",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(name, []byte(tt.src))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.err != "" && err == nil:
				t.Fatalf("no error, want %s", tt.err)
			case tt.err != "" && err.Error() != tt.err:
				t.Fatalf("error:\n got %s\nwant %s", err, tt.err)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %T is not a *config.Error", err)
				}
				if e.Path != name || e.Key != tt.key {
					t.Errorf("Error{Path: %q, Key: %q}, want Path %q, Key %q", e.Path, e.Key, name, tt.key)
				}
			}
			if tt.check != nil {
				tt.check(t, c)
			}
			if tt.schemaDiffers || strings.HasPrefix(tt.name, "invalid YAML") {
				return
			}
			serr := validateYAML(t, sch, tt.src)
			if (serr == nil) != (tt.err == "") {
				t.Errorf("schema.json disagrees with the decoder: schema error %v, decoder error %v", serr, err)
			}
		})
	}
}

func TestLoadExample(t *testing.T) {
	t.Parallel()
	c, err := Load("example.bgmigrate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Migrations) == 0 || len(c.Releases) == 0 || len(c.Exclude) == 0 || len(c.Rules.Severity) == 0 {
		t.Errorf("the example leaves keys out: %+v", c)
	}
	src, err := os.ReadFile("example.bgmigrate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := validateYAML(t, compileSchema(t), string(src)); err != nil {
		t.Errorf("example.bgmigrate.yaml does not validate against schema.json: %v", err)
	}
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	tests := []struct {
		name   string
		runner string
		migs   []Migrations
	}{
		{name: "empty"},
		{name: "detected", runner: "goose", migs: []Migrations{
			{Dir: "db/migrations", Format: parser.FormatGoose},
			{Dir: "123", Format: parser.FormatAuto},
			{Dir: "odd: dir #1", Format: parser.FormatPlain, PGVersion: 16},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := TemplateFor(tt.runner, tt.migs)
			if tt.name == "empty" && src != Template() {
				t.Errorf("Template() differs from TemplateFor(\"\", nil)")
			}
			c, err := Parse(name, []byte(src))
			if err != nil {
				t.Fatalf("template does not load: %v\n%s", err, src)
			}
			if err := validateYAML(t, sch, src); err != nil {
				t.Errorf("template does not validate against schema.json: %v", err)
			}
			if !slices.Equal(c.Migrations, tt.migs) {
				t.Errorf("migrations %+v, want %+v", c.Migrations, tt.migs)
			}
			want := tt.runner
			if want == "" {
				want = "other"
			}
			if c.Runner != want {
				t.Errorf("runner %q, want %q", c.Runner, want)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, root, "db/migrations/001_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\n")
	write(t, root, "db/migrations/002_b.sql", "-- +goose Up\nCREATE TABLE b (id int);\n")
	write(t, root, "svc/sql/1_x.up.sql", "CREATE TABLE x (id int);\n")
	write(t, root, "svc/sql/1_x.down.sql", "DROP TABLE x;\n")
	write(t, root, "node_modules/pkg/x.sql", "SELECT 1;\n")
	write(t, root, "README.md", "hello\n")
	migs, runner, err := Detect(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Migrations{{Dir: "db/migrations", Format: parser.FormatGoose}, {Dir: "svc/sql", Format: parser.FormatGolangMigrate}}
	if !slices.Equal(migs, want) || runner != "" {
		t.Errorf("Detect = %+v, %q; want %+v, \"\"", migs, runner, want)
	}
}

func write(t *testing.T, root, rel, content string) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFind(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	// outer/.bgmigrate.yaml lies above the repository and is never found.
	write(t, root, "outer/.bgmigrate.yaml", "version: 1\n")
	write(t, root, "outer/repo/.git/HEAD", "ref: refs/heads/main\n")
	write(t, root, "outer/repo/a/b/c/.keep", "")
	write(t, root, "outer/repo/a/.bgmigrate.yml", "version: 1\n")
	write(t, root, "outer/repo2/.git", "gitdir: elsewhere\n") // a worktree
	write(t, root, "outer/repo2/x/.keep", "")
	write(t, root, "outer/both/.git/HEAD", "")
	write(t, root, "outer/both/.bgmigrate.yaml", "version: 1\n")
	write(t, root, "outer/both/.bgmigrate.yml", "version: 1\n")
	write(t, root, "outer/repo3/.git/HEAD", "")
	write(t, root, "outer/repo3/.bgmigrate.yaml", "version: 1\n")
	write(t, root, "outer/repo3/db/.keep", "")

	tests := []struct {
		name, start, want, err string
	}{
		{name: "walks up", start: "outer/repo/a/b/c", want: "outer/repo/a/.bgmigrate.yml"},
		{name: "in the start directory", start: "outer/repo/a", want: "outer/repo/a/.bgmigrate.yml"},
		{name: "stops at the repository root", start: "outer/repo", want: ""},
		{name: "stops at a .git file", start: "outer/repo2/x", want: ""},
		{name: "at the root", start: "outer/repo3/db", want: "outer/repo3/.bgmigrate.yaml"},
		{name: "both names", start: "outer/both", err: "both .bgmigrate.yaml and .bgmigrate.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Find(filepath.Join(root, filepath.FromSlash(tt.start)))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want != "" {
				want = filepath.Join(root, filepath.FromSlash(want))
			}
			if got != want {
				t.Errorf("Find = %q, want %q", got, want)
			}
		})
	}
}

func TestExcluded(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	c := &Config{Dir: root, Exclude: []string{"db/migrations/legacy/**", "**/*_seed.sql", "tmp", "./a/*/c.sql"}}
	tests := []struct {
		path string
		want bool
	}{
		{"db/migrations/legacy/001.sql", true},
		{"db/migrations/legacy/old/001.sql", true},
		{"db/migrations/001.sql", false},
		{"db/migrations/legacy.sql", false},
		{"users_seed.sql", true},
		{"db/x/y/users_seed.sql", true},
		{"db/x/y/users_seed.sql.bak", false},
		{"tmp/001.sql", true},
		{"tmp2/001.sql", false},
		{"a/b/c.sql", true},
		{"a/b/x/c.sql", false},
		{"../outside/x_seed.sql", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			if got := c.Excluded(filepath.Join(root, filepath.FromSlash(tt.path))); got != tt.want {
				t.Errorf("Excluded(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	// Without a directory, paths are relative to the working directory.
	rel := &Config{Exclude: []string{"**/*_seed.sql"}}
	if !rel.Excluded("db/a_seed.sql") || rel.Excluded("db/a.sql") {
		t.Errorf("Excluded with relative paths")
	}
}

func TestMatchGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"**", "a/b/c", true},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{"**/**/x", "x", true},
		{"*.sql", "a.sql", true},
		{"*.sql", "d/a.sql", false},
		{"d/?.sql", "d/a.sql", true},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestDirFor(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	c := &Config{Dir: root, PGVersion: 15, Migrations: []Migrations{
		{Dir: "db", Format: parser.FormatAuto},
		{Dir: "db/billing", Format: parser.FormatGoose, PGVersion: 16},
		{Dir: "prisma/migrations", Format: parser.FormatPrisma},
	}}
	tests := []struct {
		path    string
		dir     string
		format  parser.Format
		version int
	}{
		{"db/001.sql", "db", parser.FormatAuto, 15},
		{"db/billing/001.sql", "db/billing", parser.FormatGoose, 16},
		{"db/billing2/001.sql", "db", parser.FormatAuto, 15},
		{"prisma/migrations/20240101_init/migration.sql", "prisma/migrations", parser.FormatPrisma, 15},
		{"other/001.sql", "", parser.FormatAuto, 15},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(root, filepath.FromSlash(tt.path))
			m := c.DirFor(p)
			got := ""
			if m != nil {
				got = m.Dir
			}
			if got != tt.dir || c.FormatFor(p) != tt.format || c.PGVersionFor(p) != tt.version {
				t.Errorf("DirFor = %q, FormatFor = %q, PGVersionFor = %d; want %q, %q, %d",
					got, c.FormatFor(p), c.PGVersionFor(p), tt.dir, tt.format, tt.version)
			}
		})
	}
}

func TestRulesConfig(t *testing.T) {
	t.Parallel()
	c, err := Parse(name, []byte(`version: 1
pg_version: 13
assume_in_transaction: true
runner: bgmigrate
rules:
  enable: [prefer-text-field, require-statement-timeout]
  disable: [unbatched-backfill]
  severity: {ban-drop-column: warning}
releases:
  - name: r1
    stopped_using: [users.flag]
`))
	if err != nil {
		t.Fatal(err)
	}
	rc := c.RulesConfig()
	if rc.PGVersion != 13 || !rc.AssumeInTransaction || rc.Style {
		t.Errorf("scalars: %+v", rc)
	}
	if !slices.Equal(rc.Exclude, []string{"unbatched-backfill", "require-lock-timeout"}) {
		t.Errorf("Exclude = %v (the enabled timeout rule stays on)", rc.Exclude)
	}
	if rc.Severity["ban-drop-column"] != rules.Warning {
		t.Errorf("Severity = %v", rc.Severity)
	}
	if len(rc.Releases) != 1 || rc.Releases[0].StoppedUsing[0] != "users.flag" {
		t.Errorf("Releases = %+v", rc.Releases)
	}
	r, err := rules.NewRunner(rc)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{
		"prefer-text-field":         true,  // enabled style rule
		"prefer-identity":           false, // other style rules stay off
		"ban-drop-column":           true,  // default rules stay on
		"unbatched-backfill":        false, // disabled
		"require-lock-timeout":      false, // the runner sets it
		"require-statement-timeout": true,  // enabled explicitly
	} {
		if r.Enabled(id) != want {
			t.Errorf("Enabled(%q) = %v, want %v", id, !want, want)
		}
	}

	// With no enable list, Only stays empty so --style keeps working.
	d := Default()
	d.Style = true
	if rc := d.RulesConfig(); rc.Only != nil || !rc.Style || len(rc.Exclude) != 0 {
		t.Errorf("default RulesConfig = %+v", rc)
	}
	if d.FailSeverity() != rules.Error {
		t.Errorf("FailSeverity = %v", d.FailSeverity())
	}
}

func TestMigrationDirs(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	tests := []struct {
		dir  string
		want []string
	}{
		{"", []string{filepath.FromSlash("db/migrations")}},
		{wd, []string{filepath.FromSlash("db/migrations")}},
		{filepath.Join(wd, "sub"), []string{filepath.Join("sub", "db", "migrations")}},
		{outside, []string{filepath.Join(outside, "db", "migrations")}},
	}
	for _, tt := range tests {
		c := &Config{Dir: tt.dir, Migrations: []Migrations{{Dir: "db/migrations"}}}
		if got := c.MigrationDirs(); !slices.Equal(got, tt.want) {
			t.Errorf("Dir %q: MigrationDirs = %q, want %q", tt.dir, got, tt.want)
		}
	}
}
