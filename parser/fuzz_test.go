package parser

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzPaths makes Parse run each format's region and transaction logic.
var fuzzPaths = []struct {
	path string
	opts Options
}{
	{"x.sql", Options{}},
	{"1_x.up.sql", Options{}},
	{"20240101_x.sql", Options{Format: FormatGoose}},
	{"20240101_x.sql", Options{Format: FormatDbmate}},
	{"V1.2__x.sql", Options{}},
	{"m/2024-01-01-000000_x/up.sql", Options{NoTransaction: true}},
	{"m/20240101000000_x/migration.sql", Options{}},
}

var parseSeeds = []string{
	"SELECT 1; SELECT 2",
	"SELECT 'unterminated",
	"SELECT 1;\nSELECT 'abc;\n",
	"SELECT E'\\'still open",
	"/* outer /* nested */ still comment */ SELECT 1;",
	"/* never closed",
	"SELECT $tag$ ; $$ ; $tag$; SELECT $a$ open",
	"SELECT $1, $$x$$;",
	"-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$\n-- +goose StatementEnd\n-- +goose Down\nDROP FUNCTION f;",
	"-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n",
	"-- +goose Up\n-- +goose StatementBegin\nSELECT 1;",
	"-- +goose Down\nSELECT 1;\n-- +goose Up\nSELECT 2;",
	"-- migrate:up transaction:false\nSELECT 1;\n-- migrate:down\nSELECT 2;",
	"-- migrate:down\n-- migrate:up\nSELECT 1;",
	"SELECT '\xff\xfe';\nSELECT \"\xc3\";",
	"\xef\xbb\xbfSELECT 1;",
	"SELECT 'é😀';\r\nCREATE TABLE café (😀 text);\r\n",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; SELECT 3;",
	"DO $$ BEGIN PERFORM\n 1; EXECUTE 'CREATE TABLE t (a int)'; EXECUTE format('DROP TABLE %I', 'x'); END $$;",
	"DO $b$ BEGIN EXECUTE $x$ALTER TABLE t ADD c int$x$; EXECUTE -- c\n 'DROP ' || 'x'; END $b$;",
	"DO 'BEGIN EXECUTE ''SELECT 1''; END';",
	"DO LANGUAGE plpgsql $$ DECLARE x int; BEGIN IF x THEN UPDATE t SET a = 1; END IF; END $$;",
	"CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN ALTER TABLE t ADD COLUMN " + strings.Repeat("é", 40) + " int; END $$;",
	"CREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 1; DELETE FROM t';",
	"CREATE TABLE " + strings.Repeat("A", 70) + " (\"" + strings.Repeat("😀", 20) + "\" int);",
	"SELECT U&\"d\\0061t\\+000061\" FROM t;",
	"ALTER TABLE t ADD COLUMN a int DEFALT 1; SELECT 1;",
	"-- bgmigrate:ignore a, b -- why\nSELECT 1; /* bgmigrate:phase contract -- r */",
	";;;",
	"",
	"-- lead\n-- more\n/* block */ SELECT 1 /* bgmigrate:phase expand -- r */ + 2; -- tail\nSELECT 3 -- end",
	"SELECT 1; -- c\n; /* d */ ; -- bgmigrate:ignore x -- r\n; SELECT 2",
	"CREATE TABLE t (a int) -- trailing;\n;",
	"CREATE TABLE \"" + strings.Repeat("a", 30) + "\"\"" + strings.Repeat("b", 33) + "\" (c int);",
	"-- c\nDO $$ BEGIN PERFORM 1; END $$;",
	"\f-- c\r\nSELECT\f1\f;",
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, fp := range fuzzPaths {
			file := Parse(fp.path, src, fp.opts)
			check := func(what string, sp Span) {
				t.Helper()
				if sp.Start.Offset < 0 || sp.End.Offset > len(src) || sp.Start.Offset > sp.End.Offset {
					t.Fatalf("%s: %s span [%d, %d) outside the source (%d bytes) or reversed", fp.path, what, sp.Start.Offset, sp.End.Offset, len(src))
				}
				for _, p := range []Position{sp.Start, sp.End} {
					if want := oraclePos(src, p.Offset); p != want {
						t.Fatalf("%s: %s position %+v, want %+v", fp.path, what, p, want)
					}
				}
			}
			var walk func(sts []*Statement, depth int)
			walk = func(sts []*Statement, depth int) {
				if depth > 3 {
					return
				}
				for _, st := range sts {
					check(st.Tag, st.Span)
					for _, id := range st.LongIdents {
						check("identifier", id.Span)
					}
					switch n := st.Node.(type) {
					case *Do:
						walk(n.Body, depth+1)
					case *CreateFunction:
						walk(n.Body(), depth+1)
					}
				}
			}
			walk(file.Statements, 0)
			for i := 1; i < len(file.Statements); i++ {
				if file.Statements[i].Span.Start.Offset < file.Statements[i-1].Span.End.Offset {
					t.Fatalf("%s: statements %d and %d overlap", fp.path, i-1, i)
				}
			}
			for _, e := range file.Errors {
				check("syntax error", e.Span)
			}
			for _, d := range file.Directives {
				check("directive", d.Span)
				if d.Stmt < -1 || d.Stmt >= len(file.Statements) {
					t.Fatalf("%s: directive attached to statement %d of %d", fp.path, d.Stmt, len(file.Statements))
				}
			}
			for line := 0; line < len(file.lines.starts)+2; line++ {
				_ = file.LineText(line)
			}
			// Parsing without scanning first gives what scanning first does.
			o := fp.opts
			o.scanned = true
			if diff := sameParse(file, Parse(fp.path, src, o)); diff != "" {
				t.Fatalf("%s: parsed without scanning first, %s", fp.path, diff)
			}
		}
	})
}

// oraclePos computes a position the slow way.
func oraclePos(src []byte, off int) Position {
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if src[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return Position{Line: line, Column: utf8.RuneCount(src[start:off]) + 1, Offset: off}
}

var directiveSeeds = []string{
	"bgmigrate:ignore ban-drop-column -- reason",
	"bgmigrate:ignore a, b,c\td -- reason -- with dashes",
	"bgmigrate:ignore-file A-RULE -- Upper case",
	"bgmigrate:ignore",
	"bgmigrate:ignore --",
	"bgmigrate:phase expand -- r",
	"bgmigrate:phase CONTRACT",
	"bgmigrate:phase",
	"bgmigrate:backfill table=t batch=1000 sleep=100ms",
	"bgmigrate:backfill table= =x k=v=w -- r",
	"bgmigrate:backfill oops",
	"bgmigrate:",
	"bgmigrate:unknown x -- y",
	"squawk-ignore ban-drop-column",
	"squawk-ignore-file prefer-robust-stmts, ban-char-field",
	"squawk-ignore",
	"squawk-ignored",
	"squawk-phase expand",
	"+goose Up",
	"bgmigrate:ignore \xff\xfe -- \xc3",
	"bgmigrate:ignore\trule",
	"",
}

func FuzzDirective(f *testing.F) {
	for _, s := range directiveSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		d := parseDirective(body)
		if d == nil {
			if strings.HasPrefix(body, "bgmigrate:") || strings.HasPrefix(body, "squawk-ignore") {
				t.Fatalf("%q: not read as a directive", body)
			}
			return
		}
		if strings.IndexByte(body, 0) >= 0 {
			// A file cannot hold NUL: Parse reports it and stops there.
			src := "SELECT 1;\n-- " + body + "\nSELECT 2;"
			file := Parse("x.sql", []byte(src), Options{Format: FormatPlain})
			nul := strings.IndexByte(src, 0)
			reported := false
			for _, e := range file.Errors {
				reported = reported || e.Span.Start.Offset == nul
			}
			if !reported || len(file.Statements) == 0 || file.Statements[len(file.Statements)-1].Span.End.Offset > nul {
				t.Fatalf("%q: NUL not reported, or statements read past it: %v", body, file.Errors)
			}
			return
		}
		// The reader sees the same text through a comment in a file.
		if !strings.ContainsAny(body, "\n\r") {
			file := Parse("x.sql", []byte("-- "+body+"\nSELECT 1;"), Options{Format: FormatPlain})
			if len(file.Directives) != 1 || !sameDirective(file.Directives[0], d) {
				t.Fatalf("%q: read from a file as %+v, want %+v", body, file.Directives, d)
			}
		}
		if !strings.Contains(body, "*/") {
			file := Parse("x.sql", []byte("/* "+body+" */ SELECT 1;"), Options{Format: FormatPlain})
			if strings.HasSuffix(strings.TrimSpace(body), "*") || strings.Contains(body, "/*") {
				return // the comment's own delimiters change the text
			}
			if len(file.Directives) != 1 || !sameDirective(file.Directives[0], d) {
				t.Fatalf("%q: read from a block comment as %+v, want %+v", body, file.Directives, d)
			}
		}
		if d.Problem != "" {
			return
		}
		// A well-formed directive prints back to text that reads the same.
		text := formatDirective(d)
		again := parseDirective(text)
		if again == nil || !sameDirective(again, d) {
			t.Fatalf("%q: printed as %q, read back as %+v, want %+v", body, text, again, d)
		}
	})
}

func formatDirective(d *Directive) string {
	var b strings.Builder
	if d.Source == "squawk" {
		b.WriteString("squawk-")
	} else {
		b.WriteString("bgmigrate:")
	}
	b.WriteString(d.Kind)
	switch d.Kind {
	case "ignore", "ignore-file":
		b.WriteString(" " + strings.Join(d.Rules, ", "))
	case "phase":
		b.WriteString(" " + d.Phase)
	case "backfill":
		keys := make([]string, 0, len(d.Args))
		for k := range d.Args {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(" " + k + "=" + d.Args[k])
		}
	}
	if d.Reason != "" {
		b.WriteString(" -- " + d.Reason)
	}
	return b.String()
}

func sameDirective(a, b *Directive) bool {
	return a.Source == b.Source && a.Kind == b.Kind && reflect.DeepEqual(a.Rules, b.Rules) && a.Phase == b.Phase &&
		reflect.DeepEqual(a.Args, b.Args) && a.Reason == b.Reason && a.Problem == b.Problem
}
