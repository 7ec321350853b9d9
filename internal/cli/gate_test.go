package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
)

// gateMigrations are the release under test: 001 is what the old color
// runs, 002 the expand the new color needs, 003 a contract for later.
var gateMigrations = map[string]string{
	"001_users.sql": "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL, legacy text);\n",
	"002_bio.sql":   "ALTER TABLE users ADD COLUMN bio text;\nCREATE INDEX CONCURRENTLY users_bio_idx ON users (bio);\n",
	"003_drop.sql":  "-- bgmigrate:phase contract -- release 2 stopped reading legacy\nALTER TABLE users DROP COLUMN legacy;\n",
}

func gateDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(gateMigrations[name]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// applyLive applies the directory's first n migrations to url, one run per
// migration with deployment ids r1, r2…; contracts are forced.
func applyLive(t *testing.T, url, dir string, n int) {
	t.Helper()
	ctx := context.Background()
	migs, err := runner.Load(ctx, dir, rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i := 1; i <= n; i++ {
		if _, err := runner.Migrate(ctx, conn, migs[:i], runner.Options{Phase: runner.PhaseAll, Force: true, Reason: "test",
			Deployment: fmt.Sprintf("r%d", i), AppliedBy: "test"}); err != nil {
			t.Fatalf("apply %s: %v", migs[i-1].Path, err)
		}
	}
}

func execLive(t *testing.T, url string, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range sqls {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

type gateResult struct {
	result
	err error
}

// runGate runs newCmdGate in-process and maps its error to an exit code as
// Main does.
func runGate(t *testing.T, args ...string) gateResult {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Env: func(string) string { return "" }}
	cmd := newCmdGate(s)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	if err != nil && err.Error() != "" {
		fmt.Fprintf(&errOut, "bgmigrate: %v\n", err)
	}
	return gateResult{result{exitCode(err), out.String(), errOut.String()}, err}
}

func TestGateScenarios(t *testing.T) {
	t.Parallel()
	all := []string{"001_users.sql", "002_bio.sql", "003_drop.sql"}
	expand := all[:2]
	cases := []struct {
		name    string
		files   []string
		applied int
		setup   func(t *testing.T, url string) []string // extra SQL on live, returns extra wants
		args    []string
		code    int
		want    []string
	}{
		{name: "clean expand, old version from the deployment ids", files: expand, applied: 2,
			code: ExitOK, want: []string{"old color at 001, new color at 002", "pass  schema-old-color", "allow"}},
		{name: "pending contract", files: all, applied: 2, args: []string{"--old-version", "001"},
			code: ExitOK, want: []string{"new color at 003", "pass  no-early-contract", "allow"}},
		{name: "dropped column the old color reads", files: expand, applied: 2,
			setup: func(t *testing.T, url string) []string {
				execLive(t, url, "ALTER TABLE users DROP COLUMN legacy")
				return nil
			},
			code: ExitFindings, want: []string{`block schema-old-color    column "legacy" of table "users" that the old color uses is missing`}},
		{name: "not null column without default", files: expand, applied: 2,
			setup: func(t *testing.T, url string) []string {
				execLive(t, url, "ALTER TABLE users ADD COLUMN tenant int NOT NULL")
				return nil
			},
			code: ExitFindings, want: []string{`column "tenant" of table "users" is NOT NULL without a default live and the old color's schema lacks it`}},
		{name: "contract applied too early", files: all, applied: 3, args: []string{"--old-version", "001"},
			code: ExitFindings, want: []string{`block no-early-contract`, `contract migration 003`, `column "legacy" of table "users" that the old color uses`}},
		{name: "contract applied, stage pre-contract", files: all, applied: 3, args: []string{"--old-version", "001", "--stage", "pre-contract"},
			code: ExitOK, want: []string{"gate pre-contract", "allow"}},
		{name: "invalid index from a failed concurrent build", files: expand, applied: 2,
			setup: func(t *testing.T, url string) []string {
				execLive(t, url, "INSERT INTO users (email) VALUES ('a@example.com'), ('a@example.com')")
				conn, err := pgx.Connect(context.Background(), url)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(context.Background())
				if _, err := conn.Exec(context.Background(), "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email)"); err == nil {
					t.Fatal("the unique index was built over duplicates")
				}
				return nil
			},
			code: ExitFindings, want: []string{`block valid-indexes`, `index "users_email_key" on table "users" is INVALID`}},
		{name: "long transaction holding a lock", files: expand, applied: 2, args: []string{"--max-transaction-age", "500ms"},
			setup: func(t *testing.T, url string) []string {
				ctx := context.Background()
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				tx, err := conn.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = tx.Rollback(ctx); _ = conn.Close(ctx) })
				var pid int
				if err := tx.QueryRow(ctx, "SELECT pg_backend_pid() FROM (SELECT count(*) FROM users) s").Scan(&pid); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Second)
				return []string{fmt.Sprintf("transaction of pid %d is ", pid)}
			},
			code: ExitFindings, want: []string{"block transactions", "holding locks on users, which the release touches"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := pgtest.DB(t)
			dir := gateDir(t, tc.files...)
			applyLive(t, url, dir, tc.applied)
			want := tc.want
			if tc.setup != nil {
				want = append(want, tc.setup(t, url)...)
			}
			args := append([]string{"--dir", dir, "--dsn", url, "--dev-url", pgtest.AdminURL(t)}, tc.args...)
			r := runGate(t, args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, w := range want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
				}
			}
		})
	}
}

func TestGateJSONAndUsage(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	dir := gateDir(t, "001_users.sql", "002_bio.sql")
	applyLive(t, url, dir, 2)
	r := runGate(t, "--dir", dir, "--dsn", url, "--dev-url", pgtest.AdminURL(t), "--format", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	var d gate.Decision
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || !d.Allow || len(d.Checks) == 0 {
		t.Errorf("json decision %+v (%v):\n%s", d, err, r.stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stage", "post-switch"}, "unknown stage"},
		{[]string{"--old-version", "999"}, `old version "999": not a migration of the directory`},
		{[]string{"--dsn", ""}, "no database: pass --dsn, set deploy.database_url"},
	} {
		args := append([]string{"--dir", dir, "--dsn", url, "--dev-url", pgtest.AdminURL(t)}, tc.args...)
		r := runGate(t, args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, ExitUsage, tc.want)
		}
	}
	// No replay database is left behind.
	conn, err := pgx.Connect(context.Background(), pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var left int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_database WHERE datname LIKE 'bgmigrate\_gate\_%'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Logf("%d replay databases exist (other tests may be running)", left)
	}
}

// buildDevDB builds bgmigrate-devdb, the program that starts docker://
// dev databases, and names it in BGMIGRATE_DEVDB for this test.
func buildDevDB(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), live.DevDBCommand)
	build := exec.Command("go", "build", "-o", bin, "../../cmd/bgmigrate-devdb")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", live.DevDBCommand, err, out)
	}
	t.Setenv("BGMIGRATE_DEVDB", bin)
	return bin
}

// The bgmigrate program itself does not load testcontainers-go, which
// lists every process of the machine when loaded; bgmigrate-devdb does.
func TestBinaryLeavesTestcontainersOut(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "../../cmd/bgmigrate").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "testcontainers") || strings.Contains(dep, "gopsutil") {
			t.Errorf("cmd/bgmigrate depends on %s", dep)
		}
	}
}

// Without bgmigrate-devdb, a docker:// dev URL is refused with what to
// install; with it and no Docker engine, the error says so.
func TestGateDockerDevURLWithoutDocker(t *testing.T) {
	url := pgtest.DB(t)
	dir := gateDir(t, "001_users.sql", "002_bio.sql")
	helper := buildDevDB(t)
	gateDocker := func() error {
		t.Helper()
		return runGate(t, "--dir", dir, "--dsn", url, "--dev-url", live.DockerScheme+"postgres:15", "--old-version", "001").err
	}
	t.Setenv("BGMIGRATE_DEVDB", filepath.Join(t.TempDir(), "missing"))
	if err := gateDocker(); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("named helper missing: %v", err)
	}
	os.Unsetenv("BGMIGRATE_DEVDB") // t.Setenv restores it
	t.Setenv("PATH", t.TempDir())
	if err := gateDocker(); err == nil || !strings.Contains(err.Error(), "go install github.com/bgmigrate/bgmigrate/cmd/bgmigrate-devdb") {
		t.Fatalf("no helper anywhere: %v", err)
	}
	// The helper's answer when no engine answers (its exit code 3; an
	// engine runs here, so a script gives that answer).
	script := filepath.Join(t.TempDir(), "devdb.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'bgmigrate-devdb: no Docker engine answers: no socket' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BGMIGRATE_DEVDB", script)
	if err := gateDocker(); !errors.Is(err, live.ErrDockerUnavailable) || !strings.Contains(err.Error(), "no socket") {
		t.Fatalf("no Docker engine: %v", err)
	}
	// An image that cannot be had: the helper's reason is passed on.
	t.Setenv("BGMIGRATE_DEVDB", helper)
	err := runGate(t, "--dir", dir, "--dsn", url, "--dev-url", live.DockerScheme+"bgmigrate/no-such-image:0", "--old-version", "001").err
	if errors.Is(err, live.ErrDockerUnavailable) {
		if pgtest.InCI() {
			t.Fatalf("CI is set and Docker is unavailable: %v", err)
		}
		t.Skipf("no Docker: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "bgmigrate/no-such-image:0") {
		t.Fatalf("missing image: %v", err)
	}
}

// TestGateDockerDevURL replays on a container started from docker://IMAGE
// by bgmigrate-devdb. Without Docker it skips, except in CI, where it fails.
func TestGateDockerDevURL(t *testing.T) {
	buildDevDB(t)
	image := os.Getenv(pgtest.EnvImage)
	if image == "" {
		image = pgtest.LocalImage
	}
	url := pgtest.DB(t)
	dir := gateDir(t, "001_users.sql", "002_bio.sql", "003_drop.sql")
	applyLive(t, url, dir, 2)
	r := runGate(t, "--dir", dir, "--dsn", url, "--dev-url", live.DockerScheme+image, "--old-version", "001")
	if errors.Is(r.err, live.ErrDockerUnavailable) {
		if pgtest.InCI() {
			t.Fatalf("CI is set and Docker is unavailable: %v", r.err)
		}
		t.Skipf("no Docker: %v", r.err)
	}
	if r.code != ExitOK || !strings.Contains(r.stdout, "allow") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
