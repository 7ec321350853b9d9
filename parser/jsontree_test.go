package parser

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

// TestJSONTreesAreTheProtobufTrees checks that parseTreeJSON builds the
// trees parseTree builds, calls and ranges included: on the project's test
// migrations and, when it is present, on the whole shared corpus.
func TestJSONTreesAreTheProtobufTrees(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../testdata/migrations/*/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !testing.Short() {
		filepath.WalkDir("../../shared/corpus", func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".sql") {
				files = append(files, p)
			}
			return nil
		})
	}
	sources := []string{
		`SELECT -1, 'a\b"c\\' || E'\t\u00e9\x01', $$x$$, B'101', 1.5e3, true, null; CREATE TABLE t (a int DEFAULT -1);`,
		`CREATE VIEW v AS SELECT now(), lower(a) FROM t WHERE b > current_date;`,
		`INSERT INTO s.t (a, b) SELECT f(x), CURRENT_TIMESTAMP FROM u ON CONFLICT (a) DO UPDATE SET b = h(excluded.b) RETURNING k();`,
		`ALTER TABLE t ALTER c SET STATISTICS -1; SET statement_timeout = -1; SET x = 0;`,
		`CREATE TABLE t (a int[0], b text[][], c int ARRAY, d int[3], e int DEFAULT - 1, f int DEFAULT -(2), g int DEFAULT -0);`,
		`CREATE TABLE t (b text[][] DEFAULT '{}'::text[], e bigint DEFAULT 0, f int DEFAULT 3) WITH (fillfactor = 0);`,
		`CREATE SEQUENCE s INCREMENT BY -1 MINVALUE -10 START 0; DROP AGGREGATE a(*);`,
	}
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, string(src))
	}
	stmts := 0
	for i, src := range sources {
		want, werr := parseTree(src)
		got, gerr := parseTreeJSON(src)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Errorf("source %d: errors %v and %v", i, werr, gerr)
			continue
		}
		if len(want) != len(got) {
			t.Errorf("source %d: %d statements, want %d", i, len(got), len(want))
			continue
		}
		for j := range want {
			w, g := want[j], got[j]
			stmts++
			if w.loc != g.loc || w.len != g.len || !slices.Equal(w.calls, g.calls) || !proto.Equal(w.node, g.node) {
				t.Errorf("source %d statement %d (%.60q): JSON tree differs:\n got %v %d %d %v\nwant %v %d %d %v", i, j, src[w.loc:], g.node, g.loc, g.len, g.calls, w.node, w.loc, w.len, w.calls)
			}
		}
	}
	t.Logf("%d sources, %d statements", len(sources), stmts)
}

// TestTreeRoutesTimes, with BGMIGRATE_ROUTES=1, prints what parseTree
// (protobuf) and parseTreeJSON take on the statements of the shared
// corpus, by statement type: the fastest of 7 alternating rounds each.
func TestTreeRoutesTimes(t *testing.T) {
	if os.Getenv("BGMIGRATE_ROUTES") == "" {
		t.Skip("set BGMIGRATE_ROUTES=1 to time the parse routes")
	}
	byKind := map[string][]string{}
	filepath.WalkDir("../../shared/corpus", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".sql") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		trees, err := parseTree(string(src))
		if err != nil {
			return nil
		}
		for _, t := range trees {
			end := len(src)
			if t.len > 0 {
				end = t.loc + t.len
			}
			m := t.node.ProtoReflect()
			kind := string(m.WhichOneof(m.Descriptor().Oneofs().Get(0)).Message().Name())
			byKind[kind] = append(byKind[kind], string(src[t.loc:end]))
			byKind["all"] = append(byKind["all"], string(src[t.loc:end]))
		}
		return nil
	})
	if len(byKind) == 0 {
		t.Skip("the shared corpus is not present")
	}
	kinds := make([]string, 0, len(byKind))
	for k, v := range byKind {
		if len(v) >= 100 {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	routes := []func(string) ([]stmtTree, error){parseTree, parseTreeJSON}
	for _, k := range kinds {
		best := []time.Duration{time.Hour, time.Hour}
		for range 7 {
			for r, parse := range routes {
				start := time.Now()
				for _, s := range byKind[k] {
					parse(s)
				}
				best[r] = min(best[r], time.Since(start))
			}
		}
		n := time.Duration(len(byKind[k]))
		t.Logf("%-24s %6d stmts  protobuf %7v/stmt  json %7v/stmt  json/protobuf %.2f", k, n, best[0]/n, best[1]/n, float64(best[1])/float64(best[0]))
	}
}

// FuzzJSONTreesAreTheProtobufTrees checks the JSON route against the
// protobuf route on any text: the same error, or the same trees.
func FuzzJSONTreesAreTheProtobufTrees(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s)
	}
	for _, s := range []string{
		`SELECT -1, 'a\b"c\\' || E'\t\u00e9\x01', $$x$$, B'101', 1.5e3, true, null`,
		`CREATE TABLE t (a int[0], b text[][] DEFAULT '{}', c int DEFAULT -(2), d numeric(10,-2))`,
		`CREATE VIEW v (a) AS SELECT x::int[], -1 AS y FROM t WHERE z IN (SELECT 1)`,
		`ALTER TABLE t ALTER c SET STATISTICS -1, ADD CONSTRAINT k CHECK (a > -1) NOT VALID`,
		`UPDATE t SET a[1] = -2, b.c = 3 WHERE d; INSERT INTO t (a) VALUES (-1) RETURNING *`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if invalidUTF8(src) >= 0 || strings.IndexByte(src, 0) >= 0 {
			return // the parser is not given these (parseRegion)
		}
		want, werr := parseTree(src)
		got, gerr := parseTreeJSON(src)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("errors %v and %v", werr, gerr)
		}
		if len(want) != len(got) {
			t.Fatalf("%d statements, want %d", len(got), len(want))
		}
		for j := range want {
			w, g := want[j], got[j]
			if w.loc != g.loc || w.len != g.len || !slices.Equal(w.calls, g.calls) || !proto.Equal(w.node, g.node) {
				t.Fatalf("statement %d: JSON tree differs:\n got %v %d %d %v\nwant %v %d %d %v", j, g.node, g.loc, g.len, g.calls, w.node, w.loc, w.len, w.calls)
			}
		}
	})
}
