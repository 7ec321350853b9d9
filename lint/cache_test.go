package lint

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bgmigrate/bgmigrate/report"
	"github.com/bgmigrate/bgmigrate/rules"
)

// TestCacheSameReport lints the test migrations without a cache, then
// with one, cold, warm and damaged: every report is the same, byte for
// byte.
func TestCacheSameReport(t *testing.T) {
	t.Parallel()
	paths := []string{"../testdata/migrations"}
	if _, err := os.Stat("../../shared/corpus/goharbor__harbor"); err == nil && !testing.Short() {
		paths = append(paths, "../../shared/corpus/goharbor__harbor")
	}
	lintJSON := func(name, cache string) []byte {
		t.Helper()
		res, err := Run(context.Background(), Options{Paths: paths, Rules: rules.Config{Style: true}, CacheDir: cache})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var out bytes.Buffer
		if err := report.JSON(&out, report.Build(res.Files)); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	want := lintJSON("without a cache", "")
	dir := t.TempDir()
	file := filepath.Join(dir, "trees.bin")
	for _, run := range []struct {
		name   string
		before func()
	}{
		{"cold", func() {}},
		{"warm", func() {}},
		{"damaged", func() {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for i := len(data) / 2; i < len(data); i += 97 {
				data[i] ^= 0x5a
			}
			os.WriteFile(file, data, 0o644)
		}},
		{"after the damage", func() {}},
	} {
		run.before()
		if got := lintJSON(run.name, dir); !bytes.Equal(got, want) {
			t.Errorf("%s cache: the report differs from the one without a cache", run.name)
		}
		if _, err := os.Stat(file); err != nil {
			t.Errorf("%s cache: %v", run.name, err)
		}
	}
}
