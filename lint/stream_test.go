package lint

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/ci"
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/report"
	"github.com/bgmigrate/bgmigrate/rules"
)

// reports lints paths and prints the result in JSON and text, streaming
// every file (streamAbove 0) or none.
func reports(t *testing.T, stream bool, opts Options) string {
	t.Helper()
	defer func(old int) { streamAbove = old }(streamAbove)
	streamAbove = 1 << 62
	if stream {
		streamAbove = 0
	}
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if f.File.Streamed() != (stream && f.File.Format != parser.FormatFlyway) {
			t.Fatalf("%s: streamed %v", f.File.Path, f.File.Streamed())
		}
	}
	var out bytes.Buffer
	if err := report.JSON(&out, report.Build(res.Files)); err != nil {
		t.Fatal(err)
	}
	if err := report.Text(&out, res.Files, report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// firstDiff describes where two outputs part.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("outputs part at byte %d: %q, want %q", i, got[max(i-80, 0):min(i+80, len(got))], want[max(i-80, 0):min(i+80, len(want))])
}

// Streaming a file (parsing it as the rules go) changes nothing in what is
// reported: the shared corpus, every file streamed, gives the same JSON
// and text as parsed whole.
func TestStreamedCorpusIsTheSame(t *testing.T) {
	const dir = "../../shared/corpus"
	if _, err := os.Stat(dir); err != nil {
		ci.Unavailable(t, "the shared corpus (%s) is not present: %v", dir, err)
	}
	for _, style := range []bool{false, true} {
		opts := Options{Paths: []string{dir}, Rules: rules.Config{Style: style}}
		if got, want := reports(t, true, opts), reports(t, false, opts); got != want {
			t.Fatalf("style %v: %s", style, firstDiff(got, want))
		}
	}
}

// streamStatements are what the generated migrations are made of: the
// statements whose rules look back or ahead in the file or transaction.
var streamStatements = []string{
	"CREATE TABLE t%d (id bigint PRIMARY KEY, a int, b text DEFAULT 'x', c timestamptz DEFAULT now());",
	"ALTER TABLE t%d ADD COLUMN d%d integer DEFAULT 0;",
	"ALTER TABLE t%d ADD COLUMN e%d integer NOT NULL;",
	"ALTER TABLE t%d ALTER COLUMN a SET NOT NULL;",
	"ALTER TABLE t%d ALTER COLUMN a TYPE bigint;",
	"ALTER TABLE t%d DROP COLUMN b;",
	"ALTER TABLE t%d ADD CONSTRAINT t%d_fk FOREIGN KEY (a) REFERENCES t%d (id) NOT VALID;",
	"ALTER TABLE t%d VALIDATE CONSTRAINT t%d_fk;",
	"ALTER TABLE t%d DROP CONSTRAINT IF EXISTS t%d_fk;",
	"ALTER TABLE t%d ADD CONSTRAINT t%d_check CHECK (a > 0);",
	"CREATE INDEX t%d_a_idx ON t%d (a);",
	"CREATE INDEX CONCURRENTLY t%d_c_idx ON t%d (c);",
	"DROP INDEX t%d_a_idx;",
	"ALTER TABLE t%d RENAME TO t%d_old;",
	"CREATE VIEW t%d AS SELECT * FROM t%d_old;",
	"DROP VIEW t%d;",
	"UPDATE t%d SET a = 1 WHERE id < 100;",
	"BEGIN;",
	"COMMIT;",
	"SET lock_timeout = '2s';",
	"SET LOCAL statement_timeout = '1min';",
	"DO $$ BEGIN ALTER TABLE t%d ADD COLUMN f%d int; END $$;",
	"CREATE FUNCTION f%d() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CREATE INDEX CONCURRENTLY ON t%d (a); END $$;",
	"SELECT f%d();",
	"-- bgmigrate:ignore require-lock-timeout -- generated\nALTER TABLE t%d ADD COLUMN g%d int;",
	"-- bgmigrate:phase contract -- generated\nALTER TABLE t%d DROP COLUMN c;",
	"DROP TABLE t%d;",
	"CREATE TABLE oops%d (;",
	"COMMENT ON TABLE t%d IS 'x';",
}

// genMigration writes n statements picked with seed, on tables of a few
// names so that they meet.
func genMigration(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	if r.IntN(3) == 0 {
		b.WriteString("-- bgmigrate:phase expand -- generated\n")
	}
	errors := seed%3 == 0 // a syntax error sends the rest of the file the scanned way
	for range n {
		st := streamStatements[r.IntN(len(streamStatements))]
		for !errors && strings.Contains(st, "oops") {
			st = streamStatements[r.IntN(len(streamStatements))]
		}
		args := make([]any, strings.Count(st, "%d"))
		for i := range args {
			args[i] = r.IntN(40)
		}
		fmt.Fprintf(&b, st+"\n", args...)
	}
	return b.String()
}

// Seeded random migrations, large enough to stream in many windows, plain
// and as goose files (one transaction), linted streamed and whole, with
// the style rules on: the same JSON and text.
func TestStreamedMigrationsAreTheSame(t *testing.T) {
	dir := t.TempDir()
	for seed := range uint64(12) {
		body := genMigration(seed, 3000+int(seed)*700)
		name := fmt.Sprintf("%03d_plain.sql", seed)
		if seed%2 == 1 {
			name, body = fmt.Sprintf("%014d_goose.sql", 20240101000000+seed), "-- +goose Up\n"+body+"\n-- +goose Down\nSELECT 1;\n"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, cfg := range []rules.Config{{Style: true}, {AssumeInTransaction: true}} {
		opts := Options{Paths: []string{dir}, Rules: cfg}
		got, want := reports(t, true, opts), reports(t, false, opts)
		if got != want {
			t.Fatalf("%+v: %s", cfg, firstDiff(got, want))
		}
		if !strings.Contains(want, `"rule":"syntax-error"`) || !strings.Contains(want, `"class":"contract"`) {
			t.Fatalf("the generated migrations do not reach the rules they are made for")
		}
	}
}

// Files replayed only to build the schema (lint --changed-since) stream
// too: the files after them are linted against the same schema.
func TestStreamedReplayIsTheSame(t *testing.T) {
	var files [2][]*parser.File
	for i, stream := range []bool{false, true} {
		for seed := range uint64(4) {
			src := []byte(genMigration(seed, 2500))
			files[i] = append(files[i], parser.Parse(fmt.Sprintf("%03d.sql", seed), src, parser.Options{Stream: stream}))
		}
	}
	infos := []rules.FileInfo{{}, {Report: true, InRelease: true}, {}, {Report: true, InRelease: true}}
	runner, err := rules.NewRunner(rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var out [2]bytes.Buffer
	for i := range files {
		res := runner.RunRelease(files[i], infos)
		if err := report.JSON(&out[i], report.Build(res)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := out[1].String(), out[0].String(); got != want {
		t.Fatal(firstDiff(got, want))
	}
}

// A run cancelled part way stops the parse of the large files it had
// started: no goroutine is left waiting to hand statements over. The run
// is cancelled while the last file is about to be parsed, the others
// streaming already.
func TestCancelStopsStreams(t *testing.T) {
	dir := t.TempDir()
	const n = 4
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d.sql", i)), []byte(genMigration(uint64(i)+1, 20000)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defer func(old int) { streamAbove = old }(streamAbove)
	streamAbove = 0
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	perFile := func(path string) (parser.Format, int) {
		if strings.HasSuffix(path, fmt.Sprintf("%03d.sql", n-1)) {
			cancel()
			time.Sleep(200 * time.Millisecond) // the run sees the cancel before the set is parsed
		}
		return "", 0
	}
	if _, err := Run(ctx, Options{Paths: []string{dir}, PerFile: perFile}); err == nil {
		t.Fatal("a cancelled run succeeded")
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after the run, %d before", n, before)
	}
}
