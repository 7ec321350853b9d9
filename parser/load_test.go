package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree creates files (slash paths relative to dir) holding "SELECT 1;".
func writeTree(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("SELECT 1;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCollectOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files []string
		src   map[string]string // content by file or glob pattern, "SELECT 1;" else
		want  []string          // the sets, "dir: file file …" (file names relative to dir)
	}{
		{
			name:  "golang-migrate in natural order, down files left out",
			files: []string{"m/10_c.up.sql", "m/2_b.up.sql", "m/1_a.up.sql", "m/1_a.down.sql", "m/2_b.down.sql", "m/10_c.down.sql"},
			want:  []string{"m: 1_a.up.sql 2_b.up.sql 10_c.up.sql"},
		},
		{
			name:  "other dialects and non-sql files left out",
			files: []string{"m/1_a.up.sql", "m/1_a.mysql.up.sql", "m/2_b.sqlite3.up.sql", "m/README.md", "m/3_c.up.sql"},
			want:  []string{"m: 1_a.up.sql 3_c.up.sql"},
		},
		{
			name: "flyway versions compared as numbers, repeatables last, undo left out",
			files: []string{"f/V2__d.sql", "f/R__views.sql", "f/V1.10__c.sql", "f/V1__a.sql", "f/V1.1__b.sql",
				"f/U2__d.sql", "f/R__a_first.sql", "f/V1_2__bb.sql"},
			want: []string{"f: V1__a.sql V1.1__b.sql V1_2__bb.sql V1.10__c.sql V2__d.sql R__a_first.sql R__views.sql"},
		},
		{
			name: "diesel directories by timestamp",
			files: []string{"d/2024-01-10-000000_c/up.sql", "d/2024-01-10-000000_c/down.sql", "d/2023-12-31-235959_a/up.sql",
				"d/2024-01-02-000000_b/up.sql", "d/00000000000000_diesel_initial_setup/up.sql"},
			want: []string{"d: 00000000000000_diesel_initial_setup/up.sql 2023-12-31-235959_a/up.sql 2024-01-02-000000_b/up.sql 2024-01-10-000000_c/up.sql"},
		},
		{
			name:  "prisma directories by timestamp",
			files: []string{"p/20240102000000_b/migration.sql", "p/20231231000000_a/migration.sql", "p/20240110000000_c/migration.sql"},
			want:  []string{"p: 20231231000000_a/migration.sql 20240102000000_b/migration.sql 20240110000000_c/migration.sql"},
		},
		{
			name:  "one set per directory, hidden directories skipped",
			files: []string{"b/1_x.sql", "a/2_y.sql", "a/1_z.sql", "a/.git/1_hidden.sql"},
			want:  []string{"a: 1_z.sql 2_y.sql", "b: 1_x.sql"},
		},
		{
			name:  "flyway major versions and versions too large for 64 bits compared as numbers",
			files: []string{"f/V10__c.sql", "f/V2__b.sql", "f/V1.10__a2.sql", "f/V1.2__a1.sql", "f/V100000000000000000000__e.sql", "f/V99999999999999999999__d.sql"},
			want:  []string{"f: V1.2__a1.sql V1.10__a2.sql V2__b.sql V10__c.sql V99999999999999999999__d.sql V100000000000000000000__e.sql"},
		},
		{
			name:  "golang-migrate numbers of different widths compared as numbers",
			files: []string{"m/10_c.up.sql", "m/20230101120000_d.up.sql", "m/0002_b.up.sql", "m/1_a.up.sql"},
			want:  []string{"m: 1_a.up.sql 0002_b.up.sql 10_c.up.sql 20230101120000_d.up.sql"},
		},
		{
			name:  "goose numbers of different widths compared as numbers",
			files: []string{"g/10_c.sql", "g/20230101120000_d.sql", "g/0002_b.sql", "g/1_a.sql"},
			src:   map[string]string{"g/*": "-- +goose Up\nSELECT 1;\n"},
			want:  []string{"g: 1_a.sql 0002_b.sql 10_c.sql 20230101120000_d.sql"},
		},
		{
			name: "diesel versions are the folder names before _ without dashes, dashed or not",
			files: []string{"d/2019-06-14-175833_create_users/up.sql", "d/20141021103503_add_x/up.sql", "d/20200101000000_b/up.sql",
				"d/2015-01-01-000000_c/up.sql", "d/00000000000000_diesel_initial_setup/up.sql", "d/2019-06-14-175833_create_users/down.sql"},
			want: []string{"d: 00000000000000_diesel_initial_setup/up.sql 20141021103503_add_x/up.sql 2015-01-01-000000_c/up.sql " +
				"2019-06-14-175833_create_users/up.sql 20200101000000_b/up.sql"},
		},
		{
			// diesel's MigrationVersion is a string, and migrations run in
			// the order of the strings.
			name:  "diesel compares versions of different widths as strings",
			files: []string{"d/9_b/up.sql", "d/10_c/up.sql", "d/1_a/up.sql"},
			want:  []string{"d: 1_a/up.sql 10_c/up.sql 9_b/up.sql"},
		},
		{
			name: "plain release folders are one set in version order",
			files: []string{"db/v1.10/001_c.sql", "db/v1.2/002_b2.sql", "db/v1.2/001_b.sql", "db/v1.0/010_a2.sql",
				"db/v1.0/001_a.sql", "db/v1.0/002_a1.sql", "db/v1.0/README.md"},
			want: []string{"db: v1.0/001_a.sql v1.0/002_a1.sql v1.0/010_a2.sql v1.2/001_b.sql v1.2/002_b2.sql v1.10/001_c.sql"},
		},
		{
			name:  "release folders with a word before the version",
			files: []string{"db/release-1.10/a.sql", "db/release-1.2/a.sql", "db/Release-1.9/a.sql"},
			want:  []string{"db: release-1.2/a.sql Release-1.9/a.sql release-1.10/a.sql"},
		},
		{
			name:  "release folders of bare versions, nested deeper",
			files: []string{"x/schema/versioned/1.10/a.sql", "x/schema/versioned/1.2/b.sql", "x/schema/versioned/2/c.sql"},
			want:  []string{"x/schema/versioned: 1.2/b.sql 1.10/a.sql 2/c.sql"},
		},
		{
			name:  "release folders beside other folders: only the releases merge",
			files: []string{"db/v2/b.sql", "db/v1/a.sql", "db/seeds/s.sql", "db/v1/sub/deep.sql"},
			want:  []string{"db: v1/a.sql v2/b.sql", "db/seeds: s.sql", "db/v1/sub: deep.sql"},
		},
		{
			name:  "one release folder is a set of its own",
			files: []string{"db/v1.0/b.sql", "db/v1.0/a.sql"},
			want:  []string{"db/v1.0: a.sql b.sql"},
		},
		{
			name:  "release folders under a folder with migrations of its own are not merged",
			files: []string{"db/init.sql", "db/v1/a.sql", "db/v2/b.sql"},
			want:  []string{"db: init.sql", "db/v1: a.sql", "db/v2: b.sql"},
		},
		{
			name:  "release folders of different prefixes are not merged",
			files: []string{"db/v1/a.sql", "db/r2/b.sql"},
			want:  []string{"db/r2: b.sql", "db/v1: a.sql"},
		},
		{
			name:  "golang-migrate folders are not merged",
			files: []string{"db/v1/1_a.up.sql", "db/v2/1_b.up.sql"},
			want:  []string{"db/v1: 1_a.up.sql", "db/v2: 1_b.up.sql"},
		},
		{
			name:  "flyway folders are not merged",
			files: []string{"db/v1/V1__a.sql", "db/v2/V2__b.sql"},
			want:  []string{"db/v1: V1__a.sql", "db/v2: V2__b.sql"},
		},
		{
			name:  "diesel folders are not merged",
			files: []string{"db/v1/2024-01-01-000000_a/up.sql", "db/v2/2023-01-01-000000_b/up.sql"},
			want:  []string{"db/v1: 2024-01-01-000000_a/up.sql", "db/v2: 2023-01-01-000000_b/up.sql"},
		},
		{
			name:  "prisma folders are not merged",
			files: []string{"db/v1/20240101000000_a/migration.sql", "db/v2/20230101000000_b/migration.sql"},
			want:  []string{"db/v1: 20240101000000_a/migration.sql", "db/v2: 20230101000000_b/migration.sql"},
		},
		{
			name:  "goose folders are not merged",
			files: []string{"db/v1/00001_a.sql", "db/v2/00001_b.sql"},
			src:   map[string]string{"db/v2/00001_b.sql": "-- a header\n-- +goose Up\nSELECT 1;\n"},
			want:  []string{"db/v1: 00001_a.sql", "db/v2: 00001_b.sql"},
		},
		{
			name:  "dbmate folders are not merged",
			files: []string{"db/v1/20240101000000_a.sql", "db/v2/20240102000000_b.sql"},
			src:   map[string]string{"db/v1/20240101000000_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\n"},
			want:  []string{"db/v1: 20240101000000_a.sql", "db/v2: 20240102000000_b.sql"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, tt.files...)
			for pattern, src := range tt.src {
				matches, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
				if err != nil || len(matches) == 0 {
					t.Fatalf("src pattern %q matches no file (%v)", pattern, err)
				}
				for _, m := range matches {
					if err := os.WriteFile(m, []byte(src), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			sets, err := Collect([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			root := filepath.ToSlash(dir) + "/"
			var got []string
			for _, s := range sets {
				line := strings.TrimPrefix(s.Dir, root) + ":"
				for _, f := range s.Files {
					line += " " + strings.TrimPrefix(f, s.Dir+"/")
				}
				got = append(got, line)
			}
			compareLines(t, got, tt.want)
		})
	}
}

func TestCollectArguments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, "m/1_a.up.sql", "m/2_b.up.sql", "m/sub/3_c.up.sql", "m/1_a.down.sql")
	root := filepath.ToSlash(dir)
	tests := []struct {
		name string
		args []string
		want int // files found
		err  bool
	}{
		{"a file named twice counts once", []string{dir + "/m/1_a.up.sql", dir + "/m/1_a.up.sql"}, 1, false},
		{"glob", []string{dir + "/m/*.up.sql"}, 2, false},
		{"double-star glob", []string{root + "/**/*.up.sql"}, 3, false},
		{"a down file named by a glob is left out", []string{dir + "/m/*.sql"}, 2, false},
		{"missing path", []string{dir + "/nope"}, 0, true},
		{"glob matching nothing", []string{dir + "/m/*.nothing"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sets, err := Collect(tt.args)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			n := 0
			for _, s := range sets {
				n += len(s.Files)
			}
			if n != tt.want {
				t.Errorf("found %d files, want %d", n, tt.want)
			}
		})
	}
}

func TestSideOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(rel, content string) string {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.ToSlash(p)
	}
	tests := []struct {
		name string
		path string
		want bool
	}{
		{"diesel run_in_transaction = false", func() string {
			write("d/2024-01-01-000000_a/metadata.toml", "run_in_transaction = false\n")
			return write("d/2024-01-01-000000_a/up.sql", "SELECT 1;")
		}(), true},
		{"diesel without metadata", write("d/2024-01-02-000000_b/up.sql", "SELECT 1;"), false},
		{"diesel run_in_transaction = true", func() string {
			write("d/2024-01-03-000000_c/metadata.toml", "run_in_transaction = true\n")
			return write("d/2024-01-03-000000_c/up.sql", "SELECT 1;")
		}(), false},
		{"flyway executeInTransaction=false", func() string {
			write("f/V1__x.sql.conf", "# per-script config\nexecuteInTransaction=false\n")
			return write("f/V1__x.sql", "SELECT 1;")
		}(), true},
		{"flyway without conf", write("f/V2__y.sql", "SELECT 1;"), false},
		{"other formats have no side files", func() string {
			write("g/metadata.toml", "run_in_transaction = false\n")
			return write("g/1_a.up.sql", "SELECT 1;")
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := SideOptions(tt.path).NoTransaction; got != tt.want {
				t.Errorf("NoTransaction = %v, want %v", got, tt.want)
			}
		})
	}
}
