package parser

import (
	"testing"
)

// TestInvalidUTF8 checks that invalid UTF-8 is reported as PostgreSQL
// reports it, at its first byte, and that only the statement holding it is
// left out, parsed either way.
func TestInvalidUTF8(t *testing.T) {
	t.Parallel()
	const enc = `invalid byte sequence for encoding "UTF8": `
	tests := []struct {
		name      string
		src       string
		wantStmts []string // tags
		wantErrs  []string // "line:col message"
		wantDirs  int
	}{
		{
			name:      "a stray byte in a statement",
			src:       "SELECT 1;\nSELECT \xff;\n",
			wantStmts: []string{"SELECT"},
			wantErrs:  []string{"2:8 " + enc + "0xff"},
		},
		{
			name:      "a table name, which pg_query cannot carry",
			src:       "CREATE TABLE a (id int);\nCREATE TABLE t\xff (id int);\nCREATE INDEX i ON a (id);\n",
			wantStmts: []string{"CREATE TABLE", "CREATE INDEX"},
			wantErrs:  []string{"2:15 " + enc + "0xff"},
		},
		{
			name:      "a Latin-1 letter names the bytes its lead byte announces",
			src:       "ALTER TABLE x ADD COLUMN c\xe9 int;\nSELECT 2;",
			wantStmts: []string{"SELECT"},
			wantErrs:  []string{"1:27 " + enc + "0xe9 0x20 0x69"},
		},
		{
			name:      "in a comment, which belongs to the statement after it",
			src:       "SELECT 1;\n-- caf\xe9\nSELECT 2;\nSELECT 3;",
			wantStmts: []string{"SELECT", "SELECT"},
			wantErrs:  []string{"2:7 " + enc + "0xe9 0x0a 0x53"},
		},
		{
			name:      "in a string",
			src:       "SELECT 'a\xffb';\nSELECT 2;",
			wantStmts: []string{"SELECT"},
			wantErrs:  []string{"1:10 " + enc + "0xff"},
		},
		{
			name:      "in a block comment that holds a semicolon",
			src:       "SELECT 1; /* x \xff ; y */ SELECT 2; SELECT 3;",
			wantStmts: []string{"SELECT", "SELECT"},
			wantErrs:  []string{"1:16 " + enc + "0xff"},
		},
		{
			name:      "in a function body",
			src:       "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; -- \xff\nEND $$;\nSELECT 2;",
			wantStmts: []string{"SELECT"},
			wantErrs:  []string{"1:75 " + enc + "0xff"},
		},
		{
			name:      "columns count characters",
			src:       "SELECT 'é😀', \xff;",
			wantErrs:  []string{"1:14 " + enc + "0xff"},
			wantStmts: nil,
		},
		{
			name:      "each statement holding invalid UTF-8",
			src:       "SELECT \xfe;\nSELECT 2;\nSELECT \xc0\xaf;\nSELECT \xed\xa0\x80;",
			wantStmts: []string{"SELECT"},
			wantErrs:  []string{"1:8 " + enc + "0xfe", "3:8 " + enc + "0xc0 0xaf", "4:8 " + enc + "0xed 0xa0 0x80"},
		},
		{
			name:      "a sequence cut by the end of the file",
			src:       "SELECT 1;\nSELECT '\xe2\x82",
			wantStmts: []string{"SELECT"},
			wantErrs:  []string{"2:9 " + enc + "0xe2 0x82"},
		},
		{
			name:      "a NUL after it",
			src:       "SELECT \xff;\nSELECT 2\x00;\nSELECT 3;",
			wantStmts: []string{"SELECT"},
			wantErrs:  []string{"1:8 " + enc + "0xff", "2:9 " + enc + "0x00"},
		},
		{
			name:      "a NUL in the same statement",
			src:       "SELECT 1;\nSELECT '\xff\x00';\nSELECT 3;",
			wantStmts: []string{"SELECT"},
			wantErrs:  []string{"2:9 " + enc + "0xff", "2:10 " + enc + "0x00"},
		},
		{
			name:     "a directive of the statement left out is still read",
			src:      "-- bgmigrate:ignore ban-drop-column -- why\nALTER TABLE t DROP COLUMN c\xff;",
			wantErrs: []string{"2:28 " + enc + "0xff"},
			wantDirs: 1,
		},
		{
			name:      "valid UTF-8 of every length",
			src:       "SELECT 'a', 'é', '€', '😀';",
			wantStmts: []string{"SELECT"},
		},
	}
	for _, tt := range tests {
		for _, scanned := range []bool{false, true} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				f := Parse("x.sql", []byte(tt.src), Options{Format: FormatPlain, scanned: scanned})
				var stmts, errs []string
				for _, st := range f.Statements {
					stmts = append(stmts, st.Tag)
				}
				for _, e := range f.Errors {
					errs = append(errs, e.Span.Start.String()+" "+e.Message)
				}
				compareLines(t, stmts, tt.wantStmts)
				compareLines(t, errs, tt.wantErrs)
				if len(f.Directives) != tt.wantDirs {
					t.Errorf("%d directives, want %d", len(f.Directives), tt.wantDirs)
				}
			})
		}
	}
}
