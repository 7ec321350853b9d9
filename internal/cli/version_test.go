package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestReadVersion(t *testing.T) {
	t.Parallel()
	pgQuery := &debug.Module{Path: "github.com/pganalyze/pg_query_go/v5", Version: "v5.1.0"}
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/bgmigrate/bgmigrate", Version: "v0.4.0"},
		Deps:      []*debug.Module{{Path: "github.com/spf13/cobra", Version: "v1.10.2"}, pgQuery},
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "darwin"},
			{Key: "GOARCH", Value: "arm64"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-11-20T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		release string
		want    VersionInfo
		text    string
	}{
		{
			name: "go install at a tag, from a dirty checkout",
			bi:   stamped,
			want: VersionInfo{Version: "v0.4.0", Commit: "0123456789abcdef0123456789abcdef01234567",
				CommitTime: "2026-11-20T10:00:00Z", Modified: true, GoVersion: "go1.26.8", Platform: "darwin/arm64",
				PgQuery: "v5.1.0", PostgresGrammar: "16"},
			text: "bgmigrate v0.4.0\ncommit    0123456789ab (2026-11-20T10:00:00Z, modified)\n" +
				"go        go1.26.8 darwin/arm64\npg_query  v5.1.0 (PostgreSQL 16 grammar)\n",
		},
		{
			name:    "the release build's version wins",
			bi:      &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Deps: []*debug.Module{pgQuery}},
			release: "v0.5.0",
			want: VersionInfo{Version: "v0.5.0", GoVersion: "go1.26.8", Platform: runtime.GOOS + "/" + runtime.GOARCH,
				PgQuery: "v5.1.0", PostgresGrammar: "16"},
		},
		{
			name: "a replaced pg_query_go of another major version",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Deps: []*debug.Module{{
				Path: "github.com/pganalyze/pg_query_go/v6", Version: "v6.0.0",
				Replace: &debug.Module{Path: "example.com/fork/pg_query_go/v6", Version: "v6.1.0-fork"},
			}}},
			want: VersionInfo{Version: "(devel)", GoVersion: "go1.26.8", Platform: runtime.GOOS + "/" + runtime.GOARCH,
				PgQuery: "v6.1.0-fork", PostgresGrammar: "17"},
		},
		{
			name: "no build info",
			want: VersionInfo{Version: "unknown", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
				PgQuery: "unknown", PostgresGrammar: "unknown"},
			text: "bgmigrate unknown\ncommit    unknown\ngo        " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH +
				"\npg_query  unknown (PostgreSQL unknown grammar)\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ReadVersion(tc.bi, tc.release)
			if got != tc.want {
				t.Errorf("ReadVersion:\n got %+v\nwant %+v", got, tc.want)
			}
			if tc.text == "" {
				return
			}
			var b bytes.Buffer
			if err := got.Print(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.text {
				t.Errorf("Print:\n got %q\nwant %q", b.String(), tc.text)
			}
		})
	}
}

func TestPgQueryMajor(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]int{
		"github.com/pganalyze/pg_query_go":        1,
		"github.com/pganalyze/pg_query_go/v5":     5,
		"github.com/pganalyze/pg_query_go/v12":    12,
		"github.com/pganalyze/pg_query_go_extras": 0,
		"github.com/pganalyze/pg_query_go/vx":     0,
		"github.com/spf13/cobra":                  0,
	} {
		got, ok := pgQueryMajor(path)
		if got != want || ok != (want != 0) {
			t.Errorf("pgQueryMajor(%q) = %d, %v; want %d", path, got, ok, want)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	r := run(t, "", "version")
	if r.code != ExitOK {
		t.Fatalf("exit code %d; stderr: %s", r.code, r.stderr)
	}
	// A test binary records no dependencies: pg_query_go is "unknown" here
	// (TestVersionOfBuiltBinary checks a real build).
	if !regexp.MustCompile(`^bgmigrate \S+\ncommit    .+\ngo        go\S* \w+/\w+\npg_query  \S+ \(PostgreSQL \S+ grammar\)\n$`).MatchString(r.stdout) {
		t.Errorf("unexpected output:\n%s", r.stdout)
	}

	r = run(t, "", "version", "--format", "json")
	if r.code != ExitOK {
		t.Fatalf("--format json: exit code %d; stderr: %s", r.code, r.stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("--format json: %v\n%s", err, r.stdout)
	}
	for _, key := range []string{"version", "modified", "go_version", "platform", "pg_query_version", "postgres_grammar"} {
		if _, ok := got[key]; !ok {
			t.Errorf("--format json: no %q in %s", key, r.stdout)
		}
	}
	if got["go_version"] != runtime.Version() {
		t.Errorf("--format json: %s", r.stdout)
	}

	if r := run(t, "", "version", "--format", "yaml"); r.code != ExitUsage {
		t.Errorf("--format yaml: exit code %d, want %d", r.code, ExitUsage)
	}
}

// versionSymbol is the variable the release builds set with -ldflags -X.
const versionSymbol = "github.com/bgmigrate/bgmigrate/internal/cli.version"

// TestVersionOfBuiltBinary builds bgmigrate as a release does, with the
// version set through -ldflags, and checks what it prints against the
// pg_query_go module it links: its version, and the PostgreSQL grammar of
// the libpg_query headers that module ships (so pgGrammars stays true when
// go.mod moves to another pg_query_go). The release files must set the
// same variable.
func TestVersionOfBuiltBinary(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"../../.goreleaser.yaml", "../../Dockerfile"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "-X "+versionSymbol+"=") {
			t.Errorf("%s does not set -X %s=...", f, versionSymbol)
		}
	}

	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}} {{.Version}} {{.Dir}}{{end}}",
		"github.com/bgmigrate/bgmigrate/cmd/bgmigrate").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	var mod, modVersion, dir string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 {
			if _, ok := pgQueryMajor(f[0]); ok {
				mod, modVersion, dir = f[0], f[1], f[2]
			}
		}
	}
	if mod == "" {
		t.Fatalf("cmd/bgmigrate does not depend on %s", pgQueryModule)
	}
	header, err := os.ReadFile(filepath.Join(dir, "parser", "include", "pg_query.h"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^#define PG_MAJORVERSION "(\d+)"`).FindSubmatch(header)
	if m == nil {
		t.Fatalf("no PG_MAJORVERSION in %s's pg_query.h", mod)
	}

	bin := filepath.Join(t.TempDir(), "bgmigrate")
	build := exec.Command("go", "build", "-ldflags", "-X "+versionSymbol+"=v0.0.0-test", "-o", bin,
		"github.com/bgmigrate/bgmigrate/cmd/bgmigrate")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("bgmigrate version: %v", err)
	}
	lines := strings.Split(string(out), "\n")
	if lines[0] != "bgmigrate v0.0.0-test" {
		t.Errorf("first line %q, want %q", lines[0], "bgmigrate v0.0.0-test")
	}
	if want := fmt.Sprintf("pg_query  %s (PostgreSQL %s grammar)", modVersion, m[1]); !strings.Contains(string(out), want+"\n") {
		t.Errorf("%s %s parses the PostgreSQL %s grammar; bgmigrate version says:\n%s", mod, modVersion, m[1], out)
	}
}
