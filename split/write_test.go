package split_test

import (
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/schema"
	"github.com/bgmigrate/bgmigrate/split"
)

// TestFilesPerTool: the migrations are named and annotated as each tool
// names and reads its own.
func TestFilesPerTool(t *testing.T) {
	t.Parallel()
	const change = "ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (code);\n"
	for _, c := range []struct {
		tool, path, src string
		versions        []string
		want            []string // paths
		check           func(t *testing.T, files []split.File)
	}{
		{tool: "plain", path: "db/007_unique.sql", src: change, versions: []string{"001", "012"},
			want: []string{"db/007_unique.sql", "db/013_unique_add_orders_code_key.sql"},
			check: func(t *testing.T, files []split.File) {
				if !strings.Contains(files[0].Content, "-- bgmigrate:phase contract -- ") || strings.Contains(files[0].Content, "SET lock_timeout") {
					t.Errorf("a contract file outside a transaction has its directive and no SET:\n%s", files[0].Content)
				}
			}},
		{tool: "goose", path: "migrations/00042_unique.sql", src: "-- +goose Up\n" + change + "-- +goose Down\nALTER TABLE orders DROP CONSTRAINT orders_code_key;\n",
			versions: []string{"00041"},
			want:     []string{"migrations/00042_unique.sql", "migrations/00043_unique_add_orders_code_key.sql"},
			check: func(t *testing.T, files []split.File) {
				if !strings.HasPrefix(files[0].Content, "-- +goose NO TRANSACTION\n-- +goose Up\n") || !strings.Contains(files[0].Content, "-- +goose StatementBegin\n") {
					t.Errorf("goose annotations missing:\n%s", files[0].Content)
				}
				if strings.Contains(files[1].Content, "NO TRANSACTION") {
					t.Errorf("a transactional file turned the transaction off:\n%s", files[1].Content)
				}
			}},
		{tool: "golang-migrate", path: "m/20240101120000_unique.up.sql", src: change, versions: []string{"20231231235959"},
			want: []string{"m/20240101120000_unique.up.sql", "m/20240101120001_unique_add_orders_code_key.up.sql"}},
		{tool: "dbmate", path: "db/migrations/20240101120059_unique.sql", src: "-- migrate:up\n" + change + "-- migrate:down\n",
			want: []string{"db/migrations/20240101120059_unique.sql", "db/migrations/20240101120100_unique_add_orders_code_key.sql"},
			check: func(t *testing.T, files []split.File) {
				if !strings.HasPrefix(files[0].Content, "-- migrate:up transaction:false\n") || !strings.HasPrefix(files[1].Content, "-- migrate:up\n") {
					t.Errorf("dbmate annotations:\n%s\n%s", files[0].Content, files[1].Content)
				}
			}},
		{tool: "flyway", path: "sql/V1.9__unique.sql", src: change, versions: []string{"1.10", "1.2"},
			want: []string{"sql/V1.9__unique.sql", "sql/V1.11__unique_add_orders_code_key.sql"}},
		{tool: "diesel", path: "migrations/2024-01-01-120000_unique/up.sql", src: change, versions: []string{"20231201000000"},
			want: []string{"migrations/2024-01-01-120000_unique/up.sql", "migrations/2024-01-01-120001_unique_add_orders_code_key/up.sql"},
			check: func(t *testing.T, files []split.File) {
				if files[0].Extra["migrations/2024-01-01-120000_unique/metadata.toml"] != "run_in_transaction = false\n" {
					t.Errorf("no metadata.toml for the file outside a transaction: %v", files[0].Extra)
				}
			}},
		{tool: "prisma", path: "prisma/migrations/20240101120000_unique/migration.sql", src: change,
			want: []string{"prisma/migrations/20240101120000_unique/migration.sql", "prisma/migrations/20240101120001_unique_add_orders_code_key/migration.sql"}},
	} {
		c := c
		t.Run(c.tool, func(t *testing.T) {
			t.Parallel()
			cat := schema.New()
			cat.BeginFile(1, false)
			base := parser.Parse("0001.sql", []byte("CREATE TABLE orders (id bigint PRIMARY KEY, code text);"), parser.Options{})
			split.Replay(cat, base.Statements)
			cat.BeginFile(2, false)
			src := parser.Parse(c.path, []byte(c.src), parser.SideOptions(c.path))
			if string(src.Format) != c.tool {
				t.Fatalf("%s detected as %s", c.path, src.Format)
			}
			p := split.Split(src, cat, split.Options{})
			files, err := split.Files(p, src, c.versions)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range files {
				got = append(got, f.Path)
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("paths %q, want %q", got, c.want)
			}
			if len(files) > 0 && !files[0].Replaces {
				t.Error("the first file does not take the source's place")
			}
			// Every file reads back as a migration of the same tool.
			for _, f := range files {
				back := parser.Parse(f.Path, []byte(f.Content), parser.SideOptions(f.Path))
				if back.Format != src.Format || len(back.Errors) > 0 || len(back.Statements) == 0 {
					t.Errorf("%s reads back as %s with %d statements, errors %v:\n%s", f.Path, back.Format, len(back.Statements), back.Errors, f.Content)
				}
			}
			if c.check != nil && len(files) >= 2 {
				c.check(t, files)
			}
		})
	}
}
