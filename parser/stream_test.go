package parser

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// readStream reads a streamed file to its end, releasing as it goes, and
// returns it with the statements in Statements, to compare with Parse.
func readStream(t *testing.T, f *File) *File {
	t.Helper()
	if !f.Streamed() {
		t.Fatal("not streamed")
	}
	var stmts []*Statement
	for i := 0; ; i++ {
		st := f.Statement(i)
		if st == nil {
			break
		}
		if i > 0 && f.Statement(i-1) == nil {
			t.Fatalf("statement %d released too early", i-1)
		}
		stmts = append(stmts, st)
		f.Release(i)
	}
	if f.Statement(len(stmts)+5) != nil {
		t.Fatal("a statement past the end")
	}
	cp := *f
	cp.Statements, cp.stream = stmts, nil
	return &cp
}

// streamCases are inputs of many pieces (chunkBytes each) that stream in
// several windows: statements whose cut needs a second parse, syntax
// errors, invalid UTF-8 and NUL bytes part way, directives everywhere,
// goose regions and blocks.
func streamCases() map[string]string {
	units := []string{
		"CREATE TABLE t (a int DEFAULT 1);\n",
		"SELECT 'a;\nb'; ",
		"SELECT 1; -- done;\n",
		"/* a;\n b */ SELECT 1; ",
		"DO $$ BEGIN PERFORM 1;\nEND $$; ",
		"-- bgmigrate:ignore ban-drop-column -- kept\nALTER TABLE t DROP COLUMN a;\n",
		"-- bgmigrate:phase contract -- late\nDROP TABLE x;\n",
	}
	big := func(unit string) string { return strings.Repeat(unit, 12*chunkBytes/len(unit)+1) }
	cases := map[string]string{}
	var mixed strings.Builder
	for i, unit := range units {
		cases[fmt.Sprintf("unit%d", i)] = big(unit)
		mixed.WriteString(big(unit)[:4*chunkBytes])
		mixed.WriteString(";\n")
	}
	m := mixed.String()
	cases["mixed"] = m
	cases["syntax error part way"] = m[:len(m)/2] + "\nCREATE TABLE oops (;\n" + m[len(m)/2:]
	cases["syntax error at the end"] = m + "\nSELECT FROM WHERE;"
	cases["unterminated literal part way"] = m[:len(m)/3] + ";\nSELECT 'open\n" + m[len(m)/3:]
	cases["invalid UTF-8 part way"] = m[:len(m)/2] + ";\nSELECT '\xff';\n" + m[len(m)/2:]
	cases["NUL part way"] = m[:len(m)/2] + ";\nSELECT 1;\x00" + m[len(m)/2:]
	cases["header phase"] = "-- bgmigrate:phase expand -- first\n" + m
	cases["directive at the end"] = m + "\n-- bgmigrate:ignore-file prefer-robust-stmts -- generated\n"
	cases["goose"] = "-- +goose Up\n" + m[:len(m)/2] + "\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose StatementEnd\n" +
		m[len(m)/2:] + "\n-- +goose Down\nDROP TABLE t;\n"
	cases["merge across windows"] = crossWindow()
	cases["one statement"] = "SELECT 1"
	cases["comments only"] = "-- bgmigrate:phase expand -- nothing\n/* nothing */\n"
	return cases
}

// crossWindow returns a text whose pieces all parse but the last of the
// first window, cut inside a literal, which is parsed again with the next
// window's first piece.
func crossWindow() string {
	last := streamWindow*runtime.GOMAXPROCS(0) - 1
	var b strings.Builder
	for p := 0; p < last+4; p++ {
		start := b.Len()
		if p == last {
			for b.Len()-start < chunkBytes-8 {
				b.WriteString("SELECT 1;\n")
			}
			b.WriteString("SELECT 'ab;\ncd';\n")
			continue
		}
		for b.Len()-start < chunkBytes {
			b.WriteString("SELECT 1;\n")
		}
	}
	return b.String()
}

// A streamed file gives the statements, directives and errors Parse does.
func TestStreamIsParse(t *testing.T) {
	for name, src := range streamCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := "x.sql"
			if strings.HasPrefix(src, "-- +goose") {
				path = "20240101000000_x.sql"
			}
			if name == "merge across windows" {
				cuts := pieceCuts(src)
				last := streamWindow*runtime.GOMAXPROCS(0) - 1
				if cut := cuts[last]; !strings.HasSuffix(src[:cut], "'ab;\n") {
					t.Fatalf("piece %d ends with %q", last, src[cut-10:cut])
				}
			}
			want := Parse(path, []byte(src), Options{})
			got := readStream(t, Parse(path, []byte(src), Options{Stream: true}))
			if diff := sameParse(got, want); diff != "" {
				t.Fatal(diff)
			}
			if got.Tx != want.Tx || got.NoTransaction != want.NoTransaction || got.Format != want.Format {
				t.Fatalf("tx %s/%v/%s, want %s/%v/%s", got.Tx, got.NoTransaction, got.Format, want.Tx, want.NoTransaction, want.Format)
			}
		})
	}
}

// Stop ends a stream read part way; Flyway files, whose transaction mode
// depends on every statement, are not streamed.
func TestStreamStopAndFlyway(t *testing.T) {
	src := streamCases()["mixed"]
	f := Parse("x.sql", []byte(src), Options{Stream: true})
	if f.Statement(3) == nil {
		t.Fatal("no statement 3")
	}
	f.Stop()
	f.Stop()
	fw := Parse("V1__x.sql", []byte(src), Options{Stream: true})
	if fw.Streamed() || fw.Format != FormatFlyway || fw.Statement(0) != fw.Statements[0] {
		t.Fatalf("Flyway file streamed (%v) or Statement differs", fw.Streamed())
	}
}

// Every file of the shared corpus, and the corpus files of each tool
// joined into one large file, stream as Parse parses them.
func TestStreamCorpus(t *testing.T) {
	joined := map[string]*strings.Builder{}
	eachCorpusFile(t, func(p string, src []byte) {
		want := Parse(p, src, Options{})
		if got := Parse(p, src, Options{Stream: true}); got.Streamed() {
			if diff := sameParse(readStream(t, got), want); diff != "" {
				t.Errorf("%s: %s", p, diff)
			}
		}
		if want.Format == FormatPlain {
			top := strings.SplitN(strings.TrimPrefix(p, "../../shared/corpus/"), "/", 2)[0]
			if joined[top] == nil {
				joined[top] = &strings.Builder{}
			}
			joined[top].Write(src)
			joined[top].WriteString("\n;\n")
		}
	})
	for top, b := range joined {
		src := []byte(b.String())
		want := Parse(top+".sql", src, Options{})
		if diff := sameParse(readStream(t, Parse(top+".sql", src, Options{Stream: true})), want); diff != "" {
			t.Errorf("%s joined (%d bytes): %s", top, len(src), diff)
		}
	}
}
