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
		want  []string // the sets, "dir: file file …" (file names relative to dir)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, tt.files...)
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
