package parser

import (
	"fmt"
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		path    string
		src     string
		opts    Options
		format  Format
		tx      TxMode
		version string
		stmts   []string // statement texts of the up part
	}{
		{
			name: "goose up and down", path: "db/20240101120000_add.sql",
			src:    "-- +goose Up\nCREATE TABLE t (a int);\n\n-- +goose Down\nDROP TABLE t; THIS IS NOT SQL;\n",
			format: FormatGoose, tx: TxWrapped, version: "20240101120000",
			stmts: []string{"CREATE TABLE t (a int)"},
		},
		{
			name: "goose statement block and NO TRANSACTION", path: "db/00002_fn.sql",
			src: "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$\n-- +goose StatementEnd\n" +
				"CREATE INDEX CONCURRENTLY i ON t (a);\n-- +goose Down\nbroken(\n",
			format: FormatGoose, tx: TxNone, version: "00002",
			stmts: []string{"CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$", "CREATE INDEX CONCURRENTLY i ON t (a)"},
		},
		{
			name: "goose annotations with CRLF", path: "db/3_x.sql",
			src:    "-- +goose Up\r\nSELECT 1;\r\n-- +goose Down\r\nnot sql\r\n",
			format: FormatGoose, tx: TxWrapped, version: "3",
			stmts: []string{"SELECT 1"},
		},
		{
			name: "dbmate", path: "db/migrations/20240101_x.sql",
			src:    "-- migrate:up\nALTER TABLE t ADD b int;\n-- migrate:down\nnot sql at all\n",
			format: FormatDbmate, tx: TxWrapped, version: "20240101",
			stmts: []string{"ALTER TABLE t ADD b int"},
		},
		{
			name: "dbmate transaction:false", path: "db/migrations/20240102_x.sql",
			src:    "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- migrate:down\nDROP INDEX i;\n",
			format: FormatDbmate, tx: TxNone, version: "20240102",
			stmts: []string{"CREATE INDEX CONCURRENTLY i ON t (a)"},
		},
		{
			name: "flyway in a transaction", path: "sql/V1_2__add.sql",
			src:    "ALTER TABLE t ADD b int;\nCREATE INDEX i ON t (b);",
			format: FormatFlyway, tx: TxWrapped, version: "1_2",
			stmts: []string{"ALTER TABLE t ADD b int", "CREATE INDEX i ON t (b)"},
		},
		{
			name: "flyway detects a non-transactional statement", path: "sql/V3__idx.sql",
			src:    "CREATE INDEX CONCURRENTLY i ON t (b);",
			format: FormatFlyway, tx: TxNone, version: "3",
			stmts: []string{"CREATE INDEX CONCURRENTLY i ON t (b)"},
		},
		{
			name: "flyway executeInTransaction=false", path: "sql/V4__x.sql", opts: Options{NoTransaction: true},
			src:    "SELECT 1;",
			format: FormatFlyway, tx: TxNone, version: "4",
			stmts: []string{"SELECT 1"},
		},
		{
			name: "flyway repeatable", path: "sql/R__views.sql",
			src:    "CREATE OR REPLACE VIEW v AS SELECT 1;",
			format: FormatFlyway, tx: TxWrapped, version: "",
			stmts: []string{"CREATE OR REPLACE VIEW v AS SELECT 1"},
		},
		{
			name: "golang-migrate runs the file as one implicit transaction", path: "migrations/000010_x.up.sql",
			src:    "SELECT 1; SELECT 2;",
			format: FormatGolangMigrate, tx: TxImplicit, version: "000010",
			stmts: []string{"SELECT 1", "SELECT 2"},
		},
		{
			name: "golang-migrate autocommit", path: "migrations/11_idx.autocommit.up.sql",
			src:    "CREATE INDEX CONCURRENTLY i ON t (a);",
			format: FormatGolangMigrate, tx: TxNone, version: "11",
			stmts: []string{"CREATE INDEX CONCURRENTLY i ON t (a)"},
		},
		{
			name: "diesel", path: "migrations/2024-01-01-120000_add/up.sql",
			src:    "SELECT 1;",
			format: FormatDiesel, tx: TxWrapped, version: "20240101120000",
			stmts: []string{"SELECT 1"},
		},
		{
			name: "diesel run_in_transaction = false", path: "migrations/2024-01-02-120000_idx/up.sql", opts: Options{NoTransaction: true},
			src:    "CREATE INDEX CONCURRENTLY i ON t (a);",
			format: FormatDiesel, tx: TxNone, version: "20240102120000",
			stmts: []string{"CREATE INDEX CONCURRENTLY i ON t (a)"},
		},
		{
			name: "prisma", path: "prisma/migrations/20240101120000_init/migration.sql",
			src:    "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);",
			format: FormatPrisma, tx: TxImplicit, version: "20240101120000",
			stmts: []string{"CREATE TABLE t (a int)", "CREATE INDEX i ON t (a)"},
		},
		{
			name: "plain", path: "schema/changes.sql",
			src:    "-- a comment that mentions goose Up and migrate:up in passing\nSELECT 1;",
			format: FormatPlain, tx: TxNone, version: "",
			stmts: []string{"SELECT 1"},
		},
		{
			name: "format forced by options", path: "x/001_a.sql", opts: Options{Format: FormatGolangMigrate},
			src:    "SELECT 1;",
			format: FormatGolangMigrate, tx: TxImplicit, version: "001",
			stmts: []string{"SELECT 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := Parse(tt.path, []byte(tt.src), tt.opts)
			if f.Format != tt.format || f.Tx != tt.tx || f.Version != tt.version {
				t.Errorf("format %s, tx %s, version %q; want %s, %s, %q", f.Format, f.Tx, f.Version, tt.format, tt.tx, tt.version)
			}
			if len(f.Errors) > 0 {
				t.Errorf("errors (the down part must not be parsed): %v", f.Errors)
			}
			var got []string
			for _, st := range f.Statements {
				got = append(got, st.Text)
			}
			compareLines(t, got, tt.stmts)
		})
	}
}

func TestDetectFormatAndDown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, src string
		want      Format
		down      bool
		other     bool
	}{
		{"a/1_x.up.sql", "", FormatGolangMigrate, false, false},
		{"a/1_x.down.sql", "", FormatPlain, true, false},
		{"a/U2__undo.sql", "", FormatPlain, true, false},
		{"a/B3__base.sql", "", FormatFlyway, false, false},
		{"a/x/down.sql", "", FormatPlain, true, false},
		{"a/1_x.mysql.up.sql", "", FormatGolangMigrate, false, true},
		{"a/1_x.sqlite3.up.sql", "", FormatGolangMigrate, false, true},
		{"a/1_x.sql", "--  +goose   Up\n", FormatGoose, false, false},
		{"a/1_x.sql", "SELECT '-- +goose Up';\n", FormatPlain, false, false},
		{"a/1_x.sql", "  -- migrate:up\n", FormatDbmate, false, false},
		{"V1__x.sql", "-- +goose Up\n", FormatGoose, false, false}, // annotations win over names
	}
	for _, tt := range tests {
		t.Run(tt.path+strings.TrimSpace(tt.src), func(t *testing.T) {
			t.Parallel()
			if got := DetectFormat(tt.path, tt.src); got != tt.want {
				t.Errorf("DetectFormat = %s, want %s", got, tt.want)
			}
			if got := IsDown(tt.path); got != tt.down {
				t.Errorf("IsDown = %v, want %v", got, tt.down)
			}
			if got := OtherDialect(tt.path); got != tt.other {
				t.Errorf("OtherDialect = %v, want %v", got, tt.other)
			}
		})
	}
}

func TestAnnotationsMatchTheWholeFileSearch(t *testing.T) {
	t.Parallel()
	srcs := []string{
		"-- +goose Up\nCREATE TABLE t (a int);\n-- +goose Down\nDROP TABLE t;\n",
		"  --  +goose  Up  \r\n-- +goose StatementBegin\r\nSELECT 1;\r\n--+goose StatementEnd\r\n-- +goose NO TRANSACTION",
		"SELECT '-- +goose Down';\n\t-- +goose Down\n",
		"-- migrate:up transaction:false\nSELECT 1;\n-- migrate:down\n-- migrate:downstream\n",
		"\n\n-- +goose\n-- +goose up extra words\n-- +goosey Up\nmigrate:up\n-- migrate:up",
		"",
	}
	for _, src := range srcs {
		if got, want := fmt.Sprint(annotations(src)), fmt.Sprint(annotation.FindAllStringSubmatchIndex(src, -1)); got != want {
			t.Errorf("annotations(%q) = %s, want %s", src, got, want)
		}
	}
}
