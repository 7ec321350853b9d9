package parser

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// TestParseTreeConvertsLikeTheWholeTree checks that the statements convert
// builds from parseTree's pruned trees are those it builds from the whole
// trees pg_query_go unmarshals, with calls listed by the reflective walk.
func TestParseTreeConvertsLikeTheWholeTree(t *testing.T) {
	t.Parallel()
	sources := map[string]string{"pruned statement types": `
CREATE VIEW v AS SELECT now(), lower(a) FROM t WHERE b > current_date;
CREATE OR REPLACE VIEW s.v (x) WITH (security_barrier) AS SELECT 1 WITH CHECK OPTION;
CREATE MATERIALIZED VIEW mv AS SELECT f(x) FROM t WITH NO DATA;
CREATE TABLE t2 AS SELECT * FROM t;
CREATE TABLE IF NOT EXISTS s.t3 AS SELECT g() AS y;
CREATE TEMP TABLE t4 AS VALUES (1);
INSERT INTO t VALUES (1, now()), (2, s.gen_id());
INSERT INTO s.t (a, b) SELECT f(x), CURRENT_TIMESTAMP FROM u ON CONFLICT (a) DO UPDATE SET b = h(excluded.b) RETURNING k();
INSERT INTO t DEFAULT VALUES;
WITH x AS (SELECT a()) INSERT INTO t SELECT * FROM x;
UPDATE t SET a = lower(b) WHERE c = current_timestamp;
UPDATE s.t SET a = 1 FROM u WHERE u.id = t.id RETURNING upper(a);
UPDATE t SET a = 1;
DELETE FROM t WHERE x IN (SELECT g());
DELETE FROM ONLY s.t USING u;
SELECT pg_catalog.set_config('a', 'b', false), CURRENT_DATE, count(*) OVER (PARTITION BY f(1));
SELECT * FROM (VALUES (1), (2)) v(a) UNION SELECT nextval('seq');
VALUES (1, 'a');
CALL s.p(now(), q(1));
CALL p();
CREATE INDEX i ON t (a, lower(b)) WHERE c IS NOT NULL;
ALTER TABLE t ADD COLUMN d timestamptz DEFAULT clock_timestamp() CHECK (d > now());
COMMENT ON TABLE t IS 'x';
`}
	files, err := filepath.Glob("../testdata/migrations/*/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sources[p] = string(src)
	}
	for name, src := range sources {
		whole, err := pg.Parse(src)
		if err != nil {
			continue // a file with a syntax error
		}
		trees, err := parseTree(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(trees) != len(whole.Stmts) {
			t.Fatalf("%s: %d statements, want %d", name, len(trees), len(whole.Stmts))
		}
		toks, err := scan(src, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f := &File{Src: src, lines: newLineIndex(src)}
		c := &converter{f: f, toks: toks}
		for i, raw := range whole.Stmts {
			want := &Statement{}
			c.convert(stmtTree{node: raw.Stmt, calls: funcCalls(raw.Stmt)}, want)
			got := &Statement{}
			c.convert(trees[i], got)
			if trees[i].loc != int(raw.StmtLocation) || trees[i].len != int(raw.StmtLen) {
				t.Errorf("%s: statement %d at %d+%d, want %d+%d", name, i, trees[i].loc, trees[i].len, raw.StmtLocation, raw.StmtLen)
			}
			if g, w := describe(got), describe(want); g != w {
				t.Errorf("%s: statement %d\n got %s\nwant %s", name, i, g, w)
			}
		}
	}
}

// describe prints a statement with the dynamic type of its node.
func describe(st *Statement) string {
	b, err := json.Marshal(st)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s %s", reflect.TypeOf(st.Node), b)
}

func TestWireCallsFollowFieldOrder(t *testing.T) {
	t.Parallel()
	src := "INSERT INTO t SELECT a(b(1), c()), CURRENT_USER FROM d() WHERE e(localtimestamp) ORDER BY f()"
	trees, err := parseTree(src)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(trees[0].calls)
	if want := "[a b c current_user d e localtimestamp f]"; got != want {
		t.Errorf("calls = %s, want %s", got, want)
	}
}
