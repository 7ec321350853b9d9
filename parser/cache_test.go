package parser

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestTreeCache checks that trees and syntax errors read back from the
// cache as parseTreeJSON returned them, and that a damaged cache file is
// parsed around: what does not check out is parsed again.
func TestTreeCache(t *testing.T) {
	t.Parallel()
	texts := []string{
		"CREATE TABLE t (a int DEFAULT -1, b text[] DEFAULT '{}');\nCREATE INDEX i ON t (lower(b));",
		"INSERT INTO t VALUES (now()); UPDATE t SET a = f(b) WHERE c = current_date;",
		"CREATE VIEW v AS SELECT a, count(*) FROM t GROUP BY a;",
		"SELECT 1 FROM;", // a syntax error
		"",
	}
	dir := t.TempDir()
	check := func(name string, wantHits, wantMisses int) {
		t.Helper()
		c, err := OpenTreeCache(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range texts {
			got, gerr := c.parse(text)
			want, werr := parseTreeJSON(text)
			if !reflect.DeepEqual(gerr, werr) {
				t.Errorf("%s: %q: error %#v, want %#v", name, text, gerr, werr)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %q: %d trees, want %d", name, text, len(got), len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.loc != w.loc || g.len != w.len || !reflect.DeepEqual(g.calls, w.calls) || !proto.Equal(g.node, w.node) {
					t.Errorf("%s: %q: tree %d differs", name, text, i)
				}
			}
		}
		if c.Hits != wantHits || c.Misses != wantMisses {
			t.Errorf("%s: %d hits and %d misses, want %d and %d", name, c.Hits, c.Misses, wantHits, wantMisses)
		}
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
	}
	check("cold", 0, len(texts))
	check("warm", len(texts), 0)

	file := filepath.Join(dir, cacheFile)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// A damaged byte in the last entry: the entries before it still read.
	damaged := append([]byte(nil), data...)
	damaged[len(damaged)-6] ^= 0xff
	os.WriteFile(file, damaged, 0o644)
	check("damaged", len(texts)-1, 1)
	// Cut short, or not a cache file at all: everything is parsed again.
	os.WriteFile(file, data[:len(cacheMagic)+10], 0o644)
	check("truncated", 0, len(texts))
	os.WriteFile(file, []byte("not a cache"), 0o644)
	check("garbage", 0, len(texts))
	check("rewritten", len(texts), 0)
}

// TestTreeCacheEntries checks that a payload that does not decode is
// refused rather than read as trees.
func TestTreeCacheEntries(t *testing.T) {
	t.Parallel()
	trees, err := parseTreeJSON("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0; SELECT f(1);")
	if err != nil {
		t.Fatal(err)
	}
	payload, ok := encodeEntry(trees, nil)
	if !ok {
		t.Fatal("not encoded")
	}
	if _, _, ok := decodeEntry(payload); !ok {
		t.Fatal("the payload does not decode")
	}
	for n := range len(payload) {
		if _, _, ok := decodeEntry(payload[:n]); ok {
			t.Errorf("a payload cut to %d of %d bytes decodes", n, len(payload))
		}
	}
	if _, _, ok := decodeEntry(append(payload, 0)); ok {
		t.Error("a payload with a byte more decodes")
	}
}

// TestTreeCacheKeepsUnused checks that an entry a run does not use is
// kept for the next runs, up to cacheRuns of them.
func TestTreeCacheKeepsUnused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := func(text string) *TreeCache {
		c, err := OpenTreeCache(dir)
		if err != nil {
			t.Fatal(err)
		}
		c.parse(text)
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	run("SELECT 1;")
	for range cacheRuns - 1 {
		run("SELECT 2;")
	}
	if c := run("SELECT 1;"); c.Hits != 1 {
		t.Errorf("an entry unused for %d runs is gone", cacheRuns-1)
	}
	for range cacheRuns {
		run("SELECT 2;")
	}
	if c := run("SELECT 1;"); c.Hits != 0 {
		t.Errorf("an entry unused for %d runs is kept", cacheRuns)
	}
}
