package parser

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/ci"
)

// sameParse compares two parses of one file; "" when they agree.
func sameParse(got, want *File) string {
	if len(got.Errors) != len(want.Errors) {
		return fmt.Sprintf("%d syntax errors, want %d", len(got.Errors), len(want.Errors))
	}
	for i := range want.Errors {
		if !reflect.DeepEqual(got.Errors[i], want.Errors[i]) {
			return fmt.Sprintf("syntax error %d is %+v, want %+v", i, got.Errors[i], want.Errors[i])
		}
	}
	if len(got.Statements) != len(want.Statements) {
		return fmt.Sprintf("%d statements, want %d", len(got.Statements), len(want.Statements))
	}
	for i := range want.Statements {
		if d := diffValue(fmt.Sprintf("statement %d", i), reflect.ValueOf(got.Statements[i]), reflect.ValueOf(want.Statements[i])); d != "" {
			return d
		}
	}
	if len(got.Directives) != len(want.Directives) {
		return fmt.Sprintf("%d directives, want %d", len(got.Directives), len(want.Directives))
	}
	for i := range want.Directives {
		if !reflect.DeepEqual(got.Directives[i], want.Directives[i]) {
			return fmt.Sprintf("directive %d is %+v, want %+v", i, got.Directives[i], want.Directives[i])
		}
	}
	return ""
}

// diffValue compares two values deeply; a function without arguments that
// returns one value (the lazy body of CreateFunction, an expression's
// text) is compared by what it returns, and an expression's tree by its
// text.
func diffValue(path string, a, b reflect.Value) string {
	if a.IsValid() != b.IsValid() {
		return path + ": one is missing"
	}
	if !a.IsValid() {
		return ""
	}
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: %s, want %s", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + ": one is nil"
			}
			return ""
		}
		return diffValue(path, a.Elem(), b.Elem())
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if a.Type() == reflect.TypeFor[Expr]() && a.Type().Field(i).Name == "tree" {
				continue // pg_query's tree, which the text compared prints
			}
			if d := diffValue(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: %d elements, want %d", path, a.Len(), b.Len())
		}
		for i := 0; i < a.Len(); i++ {
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
	case reflect.Map:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: %d entries, want %d", path, a.Len(), b.Len())
		}
		for _, k := range a.MapKeys() {
			if d := diffValue(fmt.Sprintf("%s[%v]", path, k), a.MapIndex(k), b.MapIndex(k)); d != "" {
				return d
			}
		}
	case reflect.Func:
		if a.IsNil() != b.IsNil() {
			return path + ": one is nil"
		}
		if !a.IsNil() && a.Type().NumIn() == 0 && a.Type().NumOut() == 1 {
			fa, fb := reflect.NewAt(a.Type(), a.Addr().UnsafePointer()).Elem(), reflect.NewAt(b.Type(), b.Addr().UnsafePointer()).Elem()
			return diffValue(path+"()", fa.Call(nil)[0], fb.Call(nil)[0])
		}
	case reflect.String:
		if a.String() != b.String() {
			return fmt.Sprintf("%s: %q, want %q", path, a.String(), b.String())
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return fmt.Sprintf("%s: %v, want %v", path, a.Bool(), b.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return fmt.Sprintf("%s: %d, want %d", path, a.Int(), b.Int())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if a.Uint() != b.Uint() {
			return fmt.Sprintf("%s: %d, want %d", path, a.Uint(), b.Uint())
		}
	default:
		return path + ": cannot compare " + a.Kind().String()
	}
	return ""
}

func TestParseUnscannedMatchesScanned(t *testing.T) {
	long := strings.Repeat("x", 64)
	tests := []struct {
		name, src string
		// unscanned says whether the region must take the unscanned way.
		unscanned bool
	}{
		{"plain", "SELECT 1;\nCREATE TABLE t (a int DEFAULT 1, b text NOT NULL);\nSELECT 2", true},
		{"leading line comments", "-- a\n-- b\n\nALTER TABLE t ADD COLUMN c int;", true},
		{"leading block comment", "/* a\n   b */ CREATE INDEX i ON t (a);", true},
		{"nested block comment", "/* a /* b */ c */ SELECT 1;", true},
		{"comment then dollar quote", "-- a\nDO $$ BEGIN PERFORM 1; END $$;", true},
		{"comment then long literal", "-- a\nSELECT '" + strings.Repeat("y ", 400) + "';", true},
		{"long header", strings.Repeat("-- licence text\n", 100) + "SELECT 1;", true},
		{"trailing line comment", "SELECT 1 -- note\n;\nSELECT 2;", true},
		{"trailing block comment", "SELECT 1 /* note */;", true},
		{"inner comments", "CREATE TABLE t (\n  a int, -- first\n  /* second */ b int\n);", true},
		{"directive inside", "CREATE TABLE t (\n  -- bgmigrate:ignore prefer-text-field -- r\n  a varchar(10)\n);", true},
		{"directive between empty statements", "SELECT 1; -- bgmigrate:ignore x -- r\n; ; SELECT 2;", true},
		{"directive after the last statement", "SELECT 1;\n-- bgmigrate:ignore-file x -- r\n", true},
		{"squawk directive", "-- squawk-ignore ban-drop-column\nALTER TABLE t DROP COLUMN a;", true},
		{"dashes in a literal", "SELECT '--', '/*';", true},
		{"long unquoted identifier", "CREATE TABLE " + long + " (a int);", true},
		{"long quoted identifier", "CREATE TABLE \"" + long + " y\" (a int);", true},
		{"long identifier with doubled quotes", "CREATE TABLE \"\"\"" + long[:62] + "\" (a int);", true},
		{"63 bytes", "CREATE TABLE " + long[:63] + " (a int);", true},
		{"form feed and CR", "\f\r\nSELECT 1\f\r\n;\r\n", true},
		{"no final semicolon", "SELECT 1;\n  SELECT 2  \n", true},
		{"BEGIN ATOMIC", "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;", true},
		{"syntax error", "SELECT 1;\nSELEC 2;\nSELECT 3;", false},
		{"unterminated literal", "SELECT 1;\nSELECT 'open", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := []byte(tt.src)
			want := Parse("x.sql", src, Options{scanned: true})
			got := Parse("x.sql", src, Options{})
			if diff := sameParse(got, want); diff != "" {
				t.Fatal(diff)
			}
			f := &File{Path: "x.sql", Src: tt.src}
			f.lines = newLineIndex(f.Src)
			if ok := f.parseUnscanned(region{0, len(src)}); ok != tt.unscanned {
				t.Fatalf("parsed unscanned: %v, want %v", ok, tt.unscanned)
			}
		})
	}
}

// Large regions are cut into pieces parsed on all cores; a cut inside a
// literal, comment or statement sends the region the scanned way, with
// the same result.
func TestParseUnscannedPieces(t *testing.T) {
	units := []string{
		"CREATE TABLE t (a int);\n",
		"SELECT 'a;\nb'; ",
		"SELECT E'\\';\n'; ",
		"SELECT 1; -- done;\n",
		"/* a;\n b */ SELECT 1; ",
		"DO $$ BEGIN PERFORM 1;\nEND $$; ",
		"SELECT 1\n-- x;\n, 2;\n",
		"CREATE TABLE a (x int)\n-- missing semicolon;\n",
	}
	for _, unit := range units {
		t.Run(strings.Fields(unit)[0]+fmt.Sprint(len(unit)), func(t *testing.T) {
			t.Parallel()
			src := []byte(strings.Repeat(unit, 3*chunkBytes/len(unit)+1))
			want := Parse("x.sql", src, Options{scanned: true})
			got := Parse("x.sql", src, Options{})
			if diff := sameParse(got, want); diff != "" {
				t.Fatal(diff)
			}
		})
	}
}

func TestMayHoldLongIdent(t *testing.T) {
	long := strings.Repeat("x", 64)
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"SELECT a, b FROM t WHERE c = 1 AND d = 2 AND e = 3 AND f = 4 AND g = 5;", false},
		{"SELECT " + long, true},
		{"SELECT " + long[:63] + " FROM t WHERE a = 1 AND b = 2 AND c = 3;", false},
		{`SELECT "` + strings.Repeat("a ", 32) + `" FROM t`, true},
		{`SELECT """` + long[:62] + `" FROM t`, true},
		{`SELECT "a""` + long[:62] + `" FROM t`, true},
		{`SELECT "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"`, false},
		{"SELECT 'é" + strings.Repeat("é", 32) + "'", true}, // bytes >= 0x80 can start an identifier
	} {
		if got := mayHoldLongIdent(tt.s); got != tt.want {
			t.Errorf("mayHoldLongIdent(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// Every file of the shared corpus of real migrations parses the same
// without scanning first as with it.
func TestParseUnscannedCorpus(t *testing.T) {
	eachCorpusFile(t, func(p string, src []byte) {
		want := Parse(p, src, Options{scanned: true})
		got := Parse(p, src, Options{})
		if diff := sameParse(got, want); diff != "" {
			t.Errorf("%s: %s", p, diff)
		}
	})
}

// eachCorpusFile calls fn with each .sql file of the shared corpus.
func eachCorpusFile(t *testing.T, fn func(path string, src []byte)) {
	const dir = "../../shared/corpus"
	if _, err := os.Stat(dir); err != nil {
		ci.Unavailable(t, "the shared corpus (%s) is not present: %v", dir, err)
	}
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".sql") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		fn(p, src)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3000 {
		t.Fatalf("only %d files parsed", files)
	}
}

// TestSkipComments checks skipComments against PostgreSQL's scanner: where
// it finds the first token, the scanner's first token that is no comment
// starts there.
func TestSkipComments(t *testing.T) {
	cases := []string{
		"SELECT 1",
		"  -- a\nSELECT 1",
		"--a\r\nSELECT 1",
		"--a\rSELECT 1",
		"/* a */ SELECT 1",
		"/* a /* nested */ still */ SELECT 1",
		"/**/SELECT 1",
		"/***/SELECT 1",
		"/* a **/ SELECT 1",
		"/*/ a */ SELECT 1",
		"/* -- */ SELECT 1",
		"-- /* \nSELECT 1",
		"/* a */ -- b\n/* c\n */\tSELECT 1",
		"\f\r\n\t SELECT 1",
		"/*+ hint */ SELECT 1",
		"-- ü\n\"é\" ",
		"--\n-1",
		"/* a */*",
		"\v SELECT 1",
		"/* open",
		"-- only",
		"é",
	}
	for _, c := range cases {
		i, ok := skipComments(c)
		toks, err := scan(c, 0)
		want := -1
		if err == nil {
			for _, tk := range toks {
				if !tk.comment() {
					want = tk.start
					break
				}
			}
		}
		if ok && i != want {
			t.Errorf("skipComments(%q) = %d, the scanner's first token is at %d", c, i, want)
		}
		if !ok && want >= 0 && !strings.ContainsAny(c, "\vé") {
			t.Errorf("skipComments(%q) gave up; the scanner's first token is at %d", c, want)
		}
	}
}
