package parser

import (
	"fmt"
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// spanString prints a span as "line:col-line:col".
func spanString(s Span) string { return s.Start.String() + "-" + s.End.String() }

// stmtSummary prints a statement as `TAG line:col-line:col "text"`.
func stmtSummary(f *File, st *Statement) string {
	return fmt.Sprintf("%s %s %q", st.Tag, spanString(st.Span), f.Src[st.Span.Start.Offset:st.Span.End.Offset])
}

func TestStatementSpans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "multi-byte text counts characters",
			src:  "SELECT 'é😀';  SELECT 'x' AS \"naïve\";\nCREATE TABLE café (😀 text);",
			want: []string{
				`SELECT 1:1-1:12 "SELECT 'é😀'"`,
				`SELECT 1:15-1:36 "SELECT 'x' AS \"naïve\""`,
				`CREATE TABLE 2:1-2:27 "CREATE TABLE café (😀 text)"`,
			},
		},
		{
			name: "dollar quotes hide semicolons",
			src:  "SELECT $$a;b$$;\nSELECT $tag$ ; $$ ; $tag$ AS x;\n",
			want: []string{
				`SELECT 1:1-1:15 "SELECT $$a;b$$"`,
				`SELECT 2:1-2:31 "SELECT $tag$ ; $$ ; $tag$ AS x"`,
			},
		},
		{
			name: "comments before statements are left out",
			src:  "-- heading\n/* block\n   comment */\n  SELECT 1; -- trailing\n/* a */ SELECT /* inner */ 2;",
			want: []string{
				`SELECT 4:3-4:11 "SELECT 1"`,
				`SELECT 5:9-5:29 "SELECT /* inner */ 2"`,
			},
		},
		{
			name: "missing final semicolon",
			src:  "SELECT 1;\nSELECT 2\n\n",
			want: []string{
				`SELECT 1:1-1:9 "SELECT 1"`,
				`SELECT 2:1-2:9 "SELECT 2"`,
			},
		},
		{
			name: "CRLF line ends",
			src:  "SELECT 1;\r\n\r\nCREATE TABLE t (\r\n  a int\r\n);\r\nSELECT 'é';\r\n",
			want: []string{
				`SELECT 1:1-1:9 "SELECT 1"`,
				"CREATE TABLE 3:1-5:2 \"CREATE TABLE t (\\r\\n  a int\\r\\n)\"",
				`SELECT 6:1-6:11 "SELECT 'é'"`,
			},
		},
		{
			name: "BEGIN ATOMIC body is one statement",
			src:  "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT 3;",
			want: []string{
				`CREATE FUNCTION 1:1-1:82 "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END"`,
				`SELECT 2:1-2:9 "SELECT 3"`,
			},
		},
		{
			name: "empty and comment-only files",
			src:  "-- nothing here\n/* at all */\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := Parse("x.sql", []byte(tt.src), Options{Format: FormatPlain})
			if len(f.Errors) > 0 {
				t.Fatalf("unexpected errors: %v", f.Errors)
			}
			var got []string
			for _, st := range f.Statements {
				got = append(got, stmtSummary(f, st))
				if st.Text != f.Src[st.Span.Start.Offset:st.Span.End.Offset] {
					t.Errorf("Text %q is not the source of its span", st.Text)
				}
			}
			compareLines(t, got, tt.want)
		})
	}
}

func compareLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestSyntaxErrorRecovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		src       string
		wantStmts []string
		wantErrs  []string // "line:col message"
	}{
		{
			name: "bad statement in the middle",
			src:  "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b text DEFALT 'x';\nCREATE INDEX i ON t (a);\n",
			wantStmts: []string{
				`CREATE TABLE 1:1-1:23 "CREATE TABLE t (a int)"`,
				`CREATE INDEX 3:1-3:24 "CREATE INDEX i ON t (a)"`,
			},
			wantErrs: []string{`2:33 syntax error at or near "DEFALT"`},
		},
		{
			name: "error column counts characters",
			src:  "SELECT 'é😀', 1 +;\nSELECT 2;",
			wantStmts: []string{
				`SELECT 2:1-2:9 "SELECT 2"`,
			},
			wantErrs: []string{`1:17 syntax error at end of input`},
		},
		{
			name:      "two bad statements",
			src:       "SELEC 1;\nSELECT 2;\nINSERT t VALUES (1);",
			wantStmts: []string{`SELECT 2:1-2:9 "SELECT 2"`},
			wantErrs:  []string{`1:1 syntax error at or near "SELEC"`, `3:8 syntax error at or near "t"`},
		},
		{
			name:     "unterminated quoted string",
			src:      "SELECT 1;\nSELECT 'abc;\n",
			wantErrs: []string{`2:8 unterminated quoted string at or near "'abc;` + "\n" + `"`},
			wantStmts: []string{
				`SELECT 1:1-1:9 "SELECT 1"`,
			},
		},
		{
			name:      "NUL byte stops the file",
			src:       "SELECT 1;\nSELECT 2\x00;\nSELECT 3;",
			wantStmts: []string{`SELECT 1:1-1:9 "SELECT 1"`, `SELECT 2:1-2:9 "SELECT 2"`},
			wantErrs:  []string{`2:9 invalid byte sequence for encoding "UTF8": 0x00`},
		},
		{
			name:      "invalid UTF-8 before a scanner error",
			src:       "SELECT 1;\nSELECT '\xf6'0A;",
			wantStmts: []string{`SELECT 1:1-1:9 "SELECT 1"`},
			// PostgreSQL names the bytes the stray lead byte announces.
			wantErrs: []string{`2:9 invalid byte sequence for encoding "UTF8": 0xf6 0x27 0x30 0x41`},
		},
		{
			name:      "unterminated block comment",
			src:       "SELECT 1;\n/* no end\nSELECT 2;",
			wantErrs:  []string{`2:1 unterminated /* comment at or near "/* no end` + "\nSELECT 2;" + `"`},
			wantStmts: []string{`SELECT 1:1-1:9 "SELECT 1"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := Parse("x.sql", []byte(tt.src), Options{Format: FormatPlain})
			var got []string
			for _, st := range f.Statements {
				got = append(got, stmtSummary(f, st))
			}
			compareLines(t, got, tt.wantStmts)
			var errs []string
			for _, e := range f.Errors {
				errs = append(errs, e.Span.Start.String()+" "+e.Message)
				if e.Path != "x.sql" {
					t.Errorf("error path %q", e.Path)
				}
			}
			compareLines(t, errs, tt.wantErrs)
		})
	}
}

func TestNestedStatements(t *testing.T) {
	t.Parallel()
	src := `DO $body$
DECLARE t text := 'orders';
BEGIN
    ALTER TABLE orders ADD COLUMN é text;
    PERFORM  pg_sleep(1);
    EXECUTE 'CREATE INDEX i ON orders (a)';
    EXECUTE
        format('ALTER TABLE %I ADD COLUMN b int', t);
    EXECUTE 'SELECT ' || 1;
    IF t = 'x' THEN
        UPDATE orders SET a = 1 WHERE a IS NULL;
    END IF;
END
$body$;
CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- a comment
  DROP INDEX IF EXISTS i;
END $$;
CREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 1; DELETE FROM orders';
`
	f := Parse("x.sql", []byte(src), Options{Format: FormatPlain})
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	if len(f.Statements) != 3 {
		t.Fatalf("got %d statements, want 3", len(f.Statements))
	}
	var got []string
	add := func(body []*Statement) {
		for _, st := range body {
			if !st.Nested {
				t.Errorf("%s: not marked nested", st.Tag)
			}
			s := stmtSummary(f, st)
			if st.Dynamic {
				s += fmt.Sprintf(" dynamic ddl=%v", st.DynamicDDL)
			}
			got = append(got, s)
		}
	}
	add(f.Statements[0].Node.(*Do).Body)
	add(f.Statements[1].Node.(*CreateFunction).Body())
	add(f.Statements[2].Node.(*CreateFunction).Body())
	compareLines(t, got, []string{
		`ALTER TABLE 4:5-4:41 "ALTER TABLE orders ADD COLUMN é text"`,
		`SELECT 5:5-5:25 "PERFORM  pg_sleep(1)"`,
		`CREATE INDEX 6:14-6:42 "CREATE INDEX i ON orders (a)"`,
		`EXECUTE 7:5-8:53 "EXECUTE\n        format('ALTER TABLE %I ADD COLUMN b int', t)" dynamic ddl=true`,
		`EXECUTE 9:5-9:27 "EXECUTE 'SELECT ' || 1" dynamic ddl=false`,
		`UPDATE 11:9-11:48 "UPDATE orders SET a = 1 WHERE a IS NULL"`,
		`DROP INDEX 18:3-18:25 "DROP INDEX IF EXISTS i"`,
		`SELECT 20:50-20:58 "SELECT 1"`,
		`DELETE 20:60-20:78 "DELETE FROM orders"`,
	})
	// Positions inside nested statements are exact too.
	at := f.Statements[0].Node.(*Do).Body[0].Node.(*AlterTable)
	if got := at.Cmds[0].ColumnDef.Type.Span; spanString(got) != "4:37-4:41" {
		t.Errorf("column type span %s, want 4:37-4:41", spanString(got))
	}
}

// Statements of a PL/pgSQL body that share a line keep their order, run
// after run (the body's tree comes as JSON objects, whose keys have none).
func TestNestedStatementsOnOneLine(t *testing.T) {
	t.Parallel()
	src := "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
		"IF TG_OP = 'INSERT' THEN UPDATE c SET n = n + 1; ELSE UPDATE c SET n = n - 1; END IF; RETURN NULL; END $$;"
	for range 20 {
		f := Parse("x.sql", []byte(src), Options{Format: FormatPlain})
		var got []string
		for _, st := range f.Statements[0].Node.(*CreateFunction).Body() {
			got = append(got, stmtSummary(f, st))
		}
		compareLines(t, got, []string{
			`UPDATE 1:91-1:113 "UPDATE c SET n = n + 1"`,
			`UPDATE 1:120-1:142 "UPDATE c SET n = n - 1"`,
		})
	}
}

// pg_query's scanner gives U&"…" and U&'…' tokens the length of their
// closing quote only; scan gives them their whole text.
func TestUnicodeEscapeTokens(t *testing.T) {
	t.Parallel()
	src := `SELECT U&"d\0061t" , U&'x!0061' UESCAPE '!' FROM t WHERE a = U&"b"`
	f := Parse("x.sql", []byte(src), Options{Format: FormatPlain})
	if len(f.Statements) != 1 || f.Statements[0].Text != src {
		t.Fatalf("statements %+v, want one with the whole text", f.Statements)
	}
	toks, err := scan(src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range toks {
		if tk.tok == pg.Token_UIDENT || tk.tok == pg.Token_USCONST {
			got = append(got, src[tk.start:tk.end])
		}
	}
	compareLines(t, got, []string{`U&"d\0061t"`, `U&'x!0061'`, `U&"b"`})
}

func TestLongIdents(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64)
	src := "CREATE TABLE " + strings.ToUpper(long) + " (\"" + strings.Repeat("é", 32) + "\" int, x" + strings.Repeat("b", 62) + " int);\n" +
		"SELECT '" + long + "';\n" +
		"DO $$ BEGIN CREATE TABLE " + long + "_do (a int); END $$;"
	f := Parse("x.sql", []byte(src), Options{Format: FormatPlain})
	var got []string
	collect := func(st *Statement) {
		for _, id := range st.LongIdents {
			got = append(got, fmt.Sprintf("%s %d %s", spanString(id.Span), len(id.Name), id.Name[:3]))
		}
	}
	for _, st := range f.Statements {
		collect(st)
		if do, ok := st.Node.(*Do); ok {
			for _, b := range do.Body {
				collect(b)
			}
		}
	}
	compareLines(t, got, []string{
		"1:14-1:78 64 aaa", // folded to lower case
		"1:80-1:114 64 é\xc3",
		"3:26-3:93 67 aaa",
	})
}

func TestDirectives(t *testing.T) {
	t.Parallel()
	src := `-- bgmigrate:phase contract -- release 41 stopped reading it
-- bgmigrate:ignore-file ban-drop-column -- see ticket 12
ALTER TABLE t DROP COLUMN a;
-- an ordinary comment
-- bgmigrate:ignore rule-a, rule-b -- reviewed
/* squawk-ignore prefer-robust-stmts */
CREATE TABLE t2 (a int);
SELECT 1; -- bgmigrate:ignore rule-c -- applies to the next statement
SELECT 2;
-- bgmigrate:phase expand -- not at the top: this statement only
SELECT 3;
-- bgmigrate:backfill table=t batch=100 sleep=10ms
UPDATE t SET a = 1;
-- bgmigrate:ignore
-- bgmigrate:nonsense x
-- bgmigrate:phase sideways -- why
-- bgmigrate:ignore rule-d -- nothing follows
`
	f := Parse("x.sql", []byte(src), Options{Format: FormatPlain})
	var got []string
	for _, d := range f.Directives {
		got = append(got, fmt.Sprintf("%d %s:%s rules=%v phase=%q args=%v reason=%q stmt=%d filewide=%v problem=%q",
			d.Span.Start.Line, d.Source, d.Kind, d.Rules, d.Phase, d.Args, d.Reason, d.Stmt, d.FileWide(), d.Problem))
	}
	compareLines(t, got, []string{
		`1 bgmigrate:phase rules=[] phase="contract" args=map[] reason="release 41 stopped reading it" stmt=0 filewide=true problem=""`,
		`2 bgmigrate:ignore-file rules=[ban-drop-column] phase="" args=map[] reason="see ticket 12" stmt=0 filewide=true problem=""`,
		`5 bgmigrate:ignore rules=[rule-a rule-b] phase="" args=map[] reason="reviewed" stmt=1 filewide=false problem=""`,
		`6 squawk:ignore rules=[prefer-robust-stmts] phase="" args=map[] reason="" stmt=1 filewide=false problem=""`,
		`8 bgmigrate:ignore rules=[rule-c] phase="" args=map[] reason="applies to the next statement" stmt=3 filewide=false problem=""`,
		`10 bgmigrate:phase rules=[] phase="expand" args=map[] reason="not at the top: this statement only" stmt=4 filewide=false problem=""`,
		`12 bgmigrate:backfill rules=[] phase="" args=map[batch:100 sleep:10ms table:t] reason="" stmt=5 filewide=false problem=""`,
		`14 bgmigrate:ignore rules=[] phase="" args=map[] reason="" stmt=-1 filewide=false problem="names no rule"`,
		`15 bgmigrate:nonsense rules=[] phase="" args=map[] reason="" stmt=-1 filewide=false problem="unknown directive \"nonsense\""`,
		`16 bgmigrate:phase rules=[] phase="sideways" args=map[] reason="why" stmt=-1 filewide=false problem="phase must be \"expand\" or \"contract\""`,
		`17 bgmigrate:ignore rules=[rule-d] phase="" args=map[] reason="nothing follows" stmt=-1 filewide=false problem=""`,
	})
}

func TestScanRegionMatchesWholeScan(t *testing.T) {
	t.Parallel()
	plain := strings.Repeat("CREATE INDEX i ON t (a);\n", 3*chunkBytes/25)
	body := "DO $$\nBEGIN\n" + strings.Repeat("  PERFORM f(1);\n", 2*chunkBytes/16) + "END $$;\n"
	tests := []struct {
		name string
		unit string // repeated past the size scanned in pieces
		tail string
	}{
		{name: "cut in a body after clean pieces", unit: plain + body},
		{name: "plain statements", unit: "CREATE INDEX i ON t (a);\nUPDATE t SET a = 1 WHERE b < 10;\n"},
		{name: "cut in a string", unit: "SELECT 'a;\nb'; "},
		{name: "cut in an escape string", unit: "SELECT E'\\';\n'; "},
		{name: "cut after a line comment", unit: "SELECT 1; -- done;\n"},
		{name: "cut in a block comment", unit: "/* a;\n b */ SELECT 1; "},
		{name: "cut in a dollar quote", unit: "DO $$ BEGIN PERFORM 1;\nEND $$; "},
		{name: "CRLF line ends", unit: "SELECT 1;\r\n"},
		{name: "unterminated at the end", unit: "SELECT 1;\n", tail: "SELECT 'x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := strings.Repeat(tt.unit, 5*chunkBytes/len(tt.unit)+1) + tt.tail
			if cut := len(scanCuts(text)) > 1; cut != strings.Contains(tt.unit, ";\n") {
				t.Fatalf("cut in pieces: %v", cut)
			}
			const base = 7
			want, wantErr := scan(text, base)
			got, err := scanRegion(text, base)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("error %v, want %v", err, wantErr)
			}
			if len(got) != len(want) {
				t.Fatalf("%d tokens, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("token %d is %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}
