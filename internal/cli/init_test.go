package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/parser"
)

func runInit(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newCmdInit(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Env: func(string) string { return "" }})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.Execute()
	return out.String(), err
}

func writeFile(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func codeOf(err error) int {
	if err != nil && !typed(err) {
		return -1
	}
	return exitCode(err)
}

func TestInit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		code  int
		out   string
		migs  []config.Migrations
		// kept is the content expected to survive a refused overwrite.
		kept string
	}{
		{
			name: "detects directories",
			files: map[string]string{
				"db/migrations/0001_a.up.sql":   "CREATE TABLE a (id int);\n",
				"db/migrations/0001_a.down.sql": "DROP TABLE a;\n",
				"db/migrations/0002_b.up.sql":   "CREATE TABLE b (id int);\n",
				"README.md":                     "hi\n",
			},
			out:  "with migrations in db/migrations (runner: golang-migrate)",
			migs: []config.Migrations{{Dir: "db/migrations", Format: parser.FormatGolangMigrate}},
		},
		{
			name: "mixed formats",
			files: map[string]string{
				"a/001_x.sql":             "-- +goose Up\nSELECT 1;\n",
				"b/V1__init.sql":          "CREATE TABLE t (id int);\n",
				".hidden/001.sql":         "SELECT 1;\n",
				"vendor/x/migrations.sql": "SELECT 1;\n",
			},
			out:  "with migrations in a, b\n",
			migs: []config.Migrations{{Dir: "a", Format: parser.FormatGoose}, {Dir: "b", Format: parser.FormatFlyway}},
		},
		{
			name: "no migrations",
			out:  "no migrations found",
		},
		{
			name:  "refuses to overwrite",
			files: map[string]string{".bgmigrate.yaml": "version: 1\n"},
			code:  ExitUsage,
			kept:  "version: 1\n",
		},
		{
			name:  "refuses to overwrite .yml",
			files: map[string]string{".bgmigrate.yml": "version: 1\n"},
			code:  ExitUsage,
			kept:  "version: 1\n",
		},
		{
			name:  "force",
			files: map[string]string{".bgmigrate.yaml": "version: 1\n", "m/1.sql": "SELECT 1;\n"},
			args:  []string{"--force"},
			out:   "with migrations in m\n",
			migs:  []config.Migrations{{Dir: "m", Format: parser.FormatPlain}},
		},
		{
			name: "extra argument",
			args: []string{"somewhere"},
			code: -1, // cobra's own error; Main maps it to ExitUsage
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for p, c := range tt.files {
				writeFile(t, dir, p, c)
			}
			out, err := runInit(t, append([]string{"--dir", dir}, tt.args...)...)
			if got := codeOf(err); got != tt.code {
				t.Fatalf("exit code %d, want %d (error %v)", got, tt.code, err)
			}
			if tt.code != ExitOK {
				if tt.kept != "" {
					for _, name := range []string{config.FileName, config.AltFileName} {
						if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil && string(data) != tt.kept {
							t.Errorf("%s was overwritten", name)
						}
					}
					if !strings.Contains(err.Error(), "already exists; pass --force") {
						t.Errorf("error %q does not say how to overwrite", err)
					}
				}
				return
			}
			if !strings.Contains(out, tt.out) {
				t.Errorf("output %q does not contain %q", out, tt.out)
			}
			c, err := config.Load(filepath.Join(dir, config.FileName))
			if err != nil {
				t.Fatalf("the written file does not load: %v", err)
			}
			if !slices.Equal(c.Migrations, tt.migs) {
				t.Errorf("migrations %+v, want %+v", c.Migrations, tt.migs)
			}
		})
	}
}
